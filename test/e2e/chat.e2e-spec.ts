import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { openSse, type SseEvent } from '../support/sse';
import type { TestAccount } from './auth.fixtures';

/** Threads get an explicit title so that no title-generation call mixes into the upstream's recorded requests. */
async function newThread(app: ChatApp, user: TestAccount, body: Record<string, unknown> = {}) {
  const res = await app.request('POST', '/threads', {
    token: user.accessToken,
    body: { title: 'Test thread', ...body },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; title: string; model: string; systemPrompt: string; activeLeafId: string | null };
}

function send(app: ChatApp, user: TestAccount, threadId: string, body: Record<string, unknown>) {
  return app.request('POST', `/threads/${threadId}/messages`, { token: user.accessToken, body });
}

function sse(app: ChatApp, user: TestAccount, path: string, body: Record<string, unknown>) {
  return openSse(`${app.url}/api${path}`, user.accessToken, body);
}

const contentOf = (events: SseEvent[]) =>
  events
    .filter((e) => e.event === 'delta')
    .map((e) => e.data.delta as string)
    .join('');

const turnsOf = (body: any) =>
  (body.messages as { role: string; content: string }[]).map((m) => `${m.role}:${m.content}`);

describe('Conversations (REST + SSE)', () => {
  let app: ChatApp;
  let alice: TestAccount;
  let bob: TestAccount;

  beforeAll(async () => {
    app = await startChatApp();
    alice = await app.signUp();
    bob = await app.signUp();
  });
  afterAll(async () => {
    await app.close();
  });
  beforeEach(() => {
    app.upstream.reset();
  });

  describe('threads', () => {
    it('should create with defaults, get, rename, change model and system prompt, list most recent first', async () => {
      const created = await app.request('POST', '/threads', { token: alice.accessToken, body: {} });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        title: 'New chat',
        model: 'gpt-test',
        systemPrompt: '',
        activeLeafId: null,
      });
      const second = await newThread(app, alice, { title: 'Second', model: 'gpt-small', systemPrompt: 'Be terse.' });
      expect(second).toMatchObject({ title: 'Second', model: 'gpt-small', systemPrompt: 'Be terse.' });
      const patched = await app.request('PATCH', `/threads/${created.body.id}`, {
        token: alice.accessToken,
        body: { title: 'Renamed', model: 'gpt-small', systemPrompt: 'Speak French.' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ title: 'Renamed', model: 'gpt-small', systemPrompt: 'Speak French.' });
      const list = await app.request('GET', '/threads?limit=2', { token: alice.accessToken });
      expect(list.status).toBe(200);
      expect(list.body.items.map((t: any) => t.id)).toEqual([created.body.id, second.id]);
      const got = await app.request('GET', `/threads/${second.id}`, { token: alice.accessToken });
      expect(got.body).toEqual(second);
    });

    it('should refuse an unknown model, unknown fields and wrong types', async () => {
      const unknownModel = await app.request('POST', '/threads', { token: alice.accessToken, body: { model: 'nope' } });
      expect(unknownModel.status).toBe(400);
      expect(unknownModel.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'model' }] });
      const extra = await app.request('POST', '/threads', {
        token: alice.accessToken,
        body: { title: 'x', ownerId: bob.id },
      });
      expect(extra.status).toBe(400);
      const wrongType = await app.request('POST', '/threads', {
        token: alice.accessToken,
        body: { title: { $gt: '' } },
      });
      expect(wrongType.status).toBe(400);
      const badLimit = await app.request('GET', '/threads?limit=1000', { token: alice.accessToken });
      expect(badLimit.status).toBe(400);
      const badCursor = await app.request('GET', '/threads?cursor=zzz', { token: alice.accessToken });
      expect(badCursor.status).toBe(400);
      const noAuth = await app.request('GET', '/threads');
      expect(noAuth.status).toBe(401);
    });

    it('should search titles and message text, case-insensitively, only among the caller\u2019s threads', async () => {
      const t1 = await newThread(app, alice, { title: 'Photosynthesis homework' });
      const t2 = await newThread(app, alice, { title: 'Misc' });
      expect((await send(app, alice, t2.id, { content: 'Tell me about MITOCHONDRIA please' })).status).toBe(201);
      const bobs = await newThread(app, bob, { title: 'photosynthesis for bob' });
      const byTitle = await app.request('GET', '/threads?q=PHOTOSYNTHESIS', { token: alice.accessToken });
      expect(byTitle.body.items.map((t: any) => t.id)).toEqual([t1.id]);
      expect(byTitle.body.items[0].match).toBeNull();
      const byText = await app.request('GET', '/threads?q=mitochondria', { token: alice.accessToken });
      expect(byText.body.items.map((t: any) => t.id)).toEqual([t2.id]);
      // Why it matched: the newest matching message, as plain text with the ranges of the matched word.
      const { snippet } = byText.body.items[0].match;
      expect(snippet.text).toContain('Tell me about MITOCHONDRIA please');
      expect(snippet.highlights.map(([start, end]: [number, number]) => snippet.text.slice(start, end))).toEqual([
        'MITOCHONDRIA',
      ]);
      const listed = await app.request('GET', '/threads', { token: alice.accessToken });
      expect(listed.body.items.some((t: any) => 'match' in t)).toBe(false);
      const bobSearch = await app.request('GET', '/threads?q=photosynthesis', { token: bob.accessToken });
      expect(bobSearch.body.items.map((t: any) => t.id)).toEqual([bobs.id]);
    });

    it('should delete a thread with its messages', async () => {
      const thread = await newThread(app, alice);
      const sent = await send(app, alice, thread.id, { content: 'hello' });
      expect(sent.status).toBe(201);
      const del = await app.request('DELETE', `/threads/${thread.id}`, { token: alice.accessToken });
      expect(del.status).toBe(204);
      expect((await app.request('GET', `/threads/${thread.id}`, { token: alice.accessToken })).status).toBe(404);
      expect((await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken })).status).toBe(
        404,
      );
      const exported = await app.request('GET', '/auth/me/export', { token: alice.accessToken });
      expect(JSON.stringify(exported.body)).not.toContain(sent.body.userMessage.id);
    });

    it('should stop a running reply when its thread is deleted', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: Array.from({ length: 100 }, (_, i) => `x${i} `), tokenDelayMs: 20 });
      const stream = await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'long' });
      let e = await stream.next();
      while (e && e.event !== 'delta') {
        e = await stream.next();
      }
      expect((await app.request('DELETE', `/threads/${thread.id}`, { token: alice.accessToken })).status).toBe(204);
      await app.upstream.clientClosed(app.upstream.chatRequests[0]);
      const events = await stream.all();
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    });

    it('should stop a user\u2019s running reply when the account is deleted, recording nothing for it', async () => {
      const carol = await app.signUp();
      const thread = await newThread(app, carol);
      app.upstream.enqueue({ tokens: Array.from({ length: 100 }, (_, i) => `y${i} `), tokenDelayMs: 20 });
      const stream = await sse(app, carol, `/threads/${thread.id}/messages`, { content: 'long' });
      let e = await stream.next();
      while (e && e.event !== 'delta') {
        e = await stream.next();
      }
      const deleted = await app.request('DELETE', '/auth/me', {
        token: carol.accessToken,
        body: { password: carol.password },
      });
      expect(deleted.status).toBe(204);
      await app.upstream.clientClosed(app.upstream.chatRequests[0]);
      const events = await stream.all();
      expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped' } });
    });

    it('should answer not_found to every thread route for another user\u2019s thread', async () => {
      const thread = await newThread(app, alice);
      const sent = await send(app, alice, thread.id, { content: 'mine' });
      const token = bob.accessToken;
      const attempts = await Promise.all([
        app.request('GET', `/threads/${thread.id}`, { token }),
        app.request('PATCH', `/threads/${thread.id}`, { token, body: { title: 'stolen' } }),
        app.request('PATCH', `/threads/${thread.id}`, { token, body: { activeLeafId: sent.body.userMessage.id } }),
        app.request('GET', `/threads/${thread.id}/messages`, { token }),
        app.request('GET', `/threads/${thread.id}/messages?branch=all`, { token }),
        app.request('POST', `/threads/${thread.id}/messages`, { token, body: { content: 'intrude' } }),
        app.request('POST', `/threads/${thread.id}/regenerate`, { token, body: {} }),
        app.request('POST', `/threads/${thread.id}/stop`, { token }),
        app.request('GET', `/threads/${thread.id}/export`, { token }),
        app.request('DELETE', `/threads/${thread.id}`, { token }),
        app.request('GET', `/threads/ffffffffffffffffffffffff`, { token }),
        app.request('GET', `/threads/not-an-id`, { token }),
      ]);
      for (const res of attempts) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ statusCode: 404, error: 'not_found' });
      }
      // Alice's own message to Bob's thread as a parent is not found either.
      const bobsThread = await newThread(app, bob);
      const crossParent = await send(app, bob, bobsThread.id, {
        content: 'x',
        parentId: sent.body.assistantMessage.id,
      });
      expect(crossParent.status).toBe(404);
      const still = await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken });
      expect(still.body.items.map((m: any) => m.content)).toEqual(['mine', sent.body.assistantMessage.content]);
    });
  });

  describe('generation over SSE', () => {
    it('should stream message, created, consecutive deltas and done, and store the whole reply', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({
        tokens: ['Hel', 'lo', ',', ' wor', 'ld', ' 🌍'],
        tokenDelayMs: 5,
        usage: { prompt_tokens: 11, completion_tokens: 6 },
      });
      const stream = await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'Say hello' });
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = await stream.all();
      const names = events.map((e) => e.event);
      expect(names[0]).toBe('message');
      expect(names[1]).toBe('created');
      expect(names[names.length - 1]).toBe('done');
      expect(names.slice(2, -1).every((n) => n === 'delta')).toBe(true);
      const [message, created] = events;
      expect(message.data).toMatchObject({
        role: 'user',
        content: 'Say hello',
        status: 'complete',
        parentId: null,
        threadId: thread.id,
      });
      expect(created.data).toMatchObject({
        role: 'assistant',
        status: 'streaming',
        parentId: message.data.id,
        content: '',
      });
      const deltas = events.filter((e) => e.event === 'delta');
      expect(deltas.map((d) => d.data.seq)).toEqual(deltas.map((_, i) => i + 1));
      expect(deltas.every((d) => d.data.messageId === created.data.id)).toBe(true);
      const done = events[events.length - 1].data;
      expect(done).toMatchObject({
        id: created.data.id,
        status: 'complete',
        content: 'Hello, world 🌍',
        usage: { promptTokens: 11, completionTokens: 6 },
      });
      expect(contentOf(events)).toBe(done.content);
      const stored = await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken });
      expect(stored.body.items).toEqual([message.data, done]);
      expect(stored.body.nextBefore).toBeNull();
      const me = await app.request('GET', '/auth/me', { token: alice.accessToken });
      expect(me.body.usage.today.completionTokens).toBeGreaterThanOrEqual(6);
      const [upstreamRequest] = app.upstream.chatRequests;
      expect(upstreamRequest.body).toMatchObject({
        model: 'gpt-test',
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(upstreamRequest.headers.authorization).toBe('Bearer sk-test-secret-key-0123456789');
    });

    it('should answer 201 with both messages when the client does not ask for a stream', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: ['Plain', ' answer'] });
      const res = await send(app, alice, thread.id, { content: 'Question', temperature: 0.3, maxTokens: 50 });
      expect(res.status).toBe(201);
      expect(res.body.userMessage).toMatchObject({ content: 'Question', role: 'user' });
      expect(res.body.assistantMessage).toMatchObject({
        content: 'Plain answer',
        status: 'complete',
        parentId: res.body.userMessage.id,
      });
      expect(app.upstream.chatRequests[0].body).toMatchObject({ temperature: 0.3, max_tokens: 50 });
      const thread2 = await app.request('GET', `/threads/${thread.id}`, { token: alice.accessToken });
      expect(thread2.body.activeLeafId).toBe(res.body.assistantMessage.id);
    });

    it('should keep exactly what was streamed when stopped, and close the upstream connection', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: Array.from({ length: 200 }, (_, i) => `t${i} `), tokenDelayMs: 20 });
      const stream = await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'Long answer please' });
      const received: SseEvent[] = [];
      for (
        let e = await stream.next();
        e && received.filter((x) => x.event === 'delta').length < 3;
        e = await stream.next()
      ) {
        received.push(e);
      }
      const conflict = await send(app, alice, thread.id, { content: 'while busy' });
      expect(conflict.status).toBe(409);
      expect(conflict.body.error).toBe('conflict');
      const stop = await app.request('POST', `/threads/${thread.id}/stop`, { token: alice.accessToken });
      expect(stop.status).toBe(202);
      await app.upstream.clientClosed(app.upstream.chatRequests[0]);
      const rest = await stream.all();
      const done = rest[rest.length - 1];
      expect(done.event).toBe('done');
      expect(done.data.status).toBe('stopped');
      expect(contentOf(rest)).toBe(done.data.content);
      expect(done.data.content.length).toBeGreaterThan(0);
      expect(done.data.content.split(' ').length).toBeLessThan(200);
      const stored = await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken });
      expect(stored.body.items[1]).toMatchObject({ status: 'stopped', content: done.data.content });
      const again = await app.request('POST', `/threads/${thread.id}/stop`, { token: alice.accessToken });
      expect(again.status).toBe(404);
    });

    it('should keep the partial text with status error when the upstream connection drops', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: ['one ', 'two ', 'three ', 'four ', 'five '], dropAfter: 3 });
      const events = await (await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'drop me' })).all();
      const last = events[events.length - 1];
      expect(last.event).toBe('error');
      expect(last.data).toMatchObject({ messageId: events[1].data.id, error: { code: 'upstream_error' } });
      expect(contentOf(events)).toBe('one two three ');
      const stored = await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken });
      expect(stored.body.items[1]).toMatchObject({ status: 'error', content: 'one two three ' });
      expect(app.upstream.chatRequests).toHaveLength(1);
    });

    it('should map an upstream 429 to rate_limited with its retry hint, and never leak the key', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ status: 429, headers: { 'retry-after': '17' } });
      const res = await send(app, alice, thread.id, { content: 'too fast' });
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ error: 'rate_limited', statusCode: 429 });
      expect(res.headers.get('retry-after')).toBe('17');
      expect(JSON.stringify(res.body)).not.toContain('sk-test');
      expect(JSON.stringify(res.body)).not.toContain(app.upstream.url);
      app.upstream.enqueue({ status: 500 });
      const events = await (
        await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'again', parentId: null })
      ).all();
      expect(events[events.length - 1]).toMatchObject({ event: 'error', data: { error: { code: 'upstream_error' } } });
      expect(JSON.stringify(events)).not.toContain('sk-test');
    });

    it('should map an upstream stall to upstream_timeout', async () => {
      const slow = await startChatApp({ OPENAI_TIMEOUT: '1s' });
      try {
        const user = await slow.signUp();
        const thread = await newThread(slow, user);
        slow.upstream.enqueue({ tokens: ['a', 'b', 'c'], stallAfter: 1 });
        const res = await send(slow, user, thread.id, { content: 'stall' });
        expect(res.status).toBe(504);
        expect(res.body.error).toBe('upstream_timeout');
        const stored = await slow.request('GET', `/threads/${thread.id}/messages`, { token: user.accessToken });
        expect(stored.body.items[1]).toMatchObject({ status: 'error', content: 'a' });
      } finally {
        await slow.close();
      }
    });

    it('should go on generating when the SSE client disconnects', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: Array.from({ length: 20 }, (_, i) => `w${i} `), tokenDelayMs: 10 });
      const stream = await sse(app, alice, `/threads/${thread.id}/messages`, { content: 'go on' });
      let e = await stream.next();
      while (e && e.event !== 'delta') {
        e = await stream.next();
      }
      stream.abort();
      await app.upstream.settled(app.upstream.chatRequests[0]);
      // The reply is written whole once the stream ends; poll the stored message briefly.
      let stored: any;
      for (let i = 0; i < 100; i++) {
        stored = (await app.request('GET', `/threads/${thread.id}/messages`, { token: alice.accessToken })).body
          .items[1];
        if (stored.status !== 'streaming') {
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(stored.status).toBe('complete');
      expect(stored.content.split(' ').filter(Boolean)).toHaveLength(20);
    });
  });

  describe('branching', () => {
    it('should edit, regenerate and switch branches, the model seeing only the active branch', async () => {
      const thread = await newThread(app, alice, { systemPrompt: 'You are a pirate.' });
      const t = alice.accessToken;
      app.upstream.script = (body) => ({ tokens: [`re:${(body.messages as any[]).at(-1).content}`] });
      const first = await send(app, alice, thread.id, { content: 'q1' });
      const second = await send(app, alice, thread.id, { content: 'q2' });
      expect(turnsOf(app.upstream.chatRequests[1].body)).toEqual([
        'system:You are a pirate.',
        'user:q1',
        'assistant:re:q1',
        'user:q2',
      ]);
      // edit q2: answer after a1 again
      const edited = await send(app, alice, thread.id, { content: "q2'", parentId: first.body.assistantMessage.id });
      expect(edited.body.userMessage.parentId).toBe(first.body.assistantMessage.id);
      expect(turnsOf(app.upstream.chatRequests[2].body)).toEqual([
        'system:You are a pirate.',
        'user:q1',
        'assistant:re:q1',
        "user:q2'",
      ]);
      // regenerate the active answer: a sibling of re:q2'
      const regen = await app.request('POST', `/threads/${thread.id}/regenerate`, { token: t, body: {} });
      expect(regen.status).toBe(201);
      expect(regen.body.assistantMessage.parentId).toBe(edited.body.userMessage.id);
      expect(regen.body.assistantMessage.id).not.toBe(edited.body.assistantMessage.id);
      expect(turnsOf(app.upstream.chatRequests[3].body)).toEqual([
        'system:You are a pirate.',
        'user:q1',
        'assistant:re:q1',
        "user:q2'",
      ]);
      const active = await app.request('GET', `/threads/${thread.id}/messages`, { token: t });
      expect(active.body.items.map((m: any) => m.id)).toEqual([
        first.body.userMessage.id,
        first.body.assistantMessage.id,
        edited.body.userMessage.id,
        regen.body.assistantMessage.id,
      ]);
      const all = await app.request('GET', `/threads/${thread.id}/messages?branch=all`, { token: t });
      expect(all.body.items).toHaveLength(7);
      // switch back to the original q2 branch by naming its question: its newest leaf is shown
      const switched = await app.request('PATCH', `/threads/${thread.id}`, {
        token: t,
        body: { activeLeafId: second.body.userMessage.id },
      });
      expect(switched.body.activeLeafId).toBe(second.body.assistantMessage.id);
      await send(app, alice, thread.id, { content: 'q3' });
      expect(turnsOf(app.upstream.chatRequests[4].body)).toEqual([
        'system:You are a pirate.',
        'user:q1',
        'assistant:re:q1',
        'user:q2',
        'assistant:re:q2',
        'user:q3',
      ]);
      const paged = await app.request('GET', `/threads/${thread.id}/messages?limit=2`, { token: t });
      expect(paged.body.items.map((m: any) => m.content)).toEqual(['q3', 're:q3']);
      const older = await app.request(
        'GET',
        `/threads/${thread.id}/messages?limit=10&before=${paged.body.nextBefore}`,
        { token: t },
      );
      expect(older.body.items.map((m: any) => m.content)).toEqual(['q1', 're:q1', 'q2', 're:q2']);
      expect(older.body.nextBefore).toBeNull();
      const badParent = await send(app, alice, thread.id, { content: 'x', parentId: first.body.userMessage.id });
      expect(badParent.status).toBe(400);
    });

    it('should regenerate over SSE as a new active sibling', async () => {
      const thread = await newThread(app, alice);
      const first = await send(app, alice, thread.id, { content: 'pick a number' });
      app.upstream.enqueue({ tokens: ['4', '2'] });
      const events = await (
        await sse(app, alice, `/threads/${thread.id}/regenerate`, { messageId: first.body.assistantMessage.id })
      ).all();
      expect(events.map((e) => e.event)).toEqual(
        ['message', 'created', 'delta', 'done'].slice(0, 2).concat(
          events.slice(2, -1).map(() => 'delta'),
          ['done'],
        ),
      );
      expect(events[0].data.id).toBe(first.body.userMessage.id);
      expect(events.at(-1)!.data).toMatchObject({
        content: '42',
        parentId: first.body.userMessage.id,
        status: 'complete',
      });
    });
  });

  describe('context, quota, idempotency, titles, export', () => {
    it('should drop the oldest turns that do not fit the model\u2019s context window', async () => {
      const thread = await newThread(app, alice, { model: 'gpt-small', systemPrompt: 'System rule.' });
      app.upstream.script = () => ({ tokens: ['ok'] });
      const long = (i: number) => `message ${i} ` + 'lorem ipsum dolor sit amet '.repeat(20);
      let reply: any;
      for (let i = 0; i < 6; i++) {
        reply = await send(app, alice, thread.id, { content: long(i), maxTokens: 100 });
        expect(reply.status).toBe(201);
      }
      const last = app.upstream.chatRequests.at(-1)!.body.messages as { role: string; content: string }[];
      expect(last[0]).toEqual({ role: 'system', content: 'System rule.' });
      expect(last.at(-1)).toEqual({ role: 'user', content: long(5) });
      expect(last.length).toBeLessThan(1 + 6 * 2);
      expect(last.some((m) => m.content === long(0))).toBe(false);
      // the kept turns are the newest, in order, and the reply says how many were left out
      const history = Array.from({ length: 6 }, (_, i) => [`user:${long(i)}`, 'assistant:ok'])
        .flat()
        .slice(0, -1);
      expect(turnsOf({ messages: last.slice(1) })).toEqual(history.slice(history.length - (last.length - 1)));
      expect(reply.body.assistantMessage.contextOmitted).toBe(history.length - (last.length - 1));
    });

    it('should send a long branch whole when it fits the window (more than one page of history)', async () => {
      // Its own user: 70 sends as fast as they answer are past the per-user send rate (a burst of 60, then 20 a
      // second), so they wait as Retry-After says, as a client does, and leave alice's budget to the next tests.
      const dan = await app.signUp();
      const thread = await newThread(app, dan);
      app.upstream.script = () => ({ tokens: ['ok'] });
      let reply: any;
      for (let i = 0; i < 70; i++) {
        reply = await send(app, dan, thread.id, { content: `n${i}` });
        while (reply.status === 429 && reply.body.error === 'rate_limited') {
          await new Promise((r) => setTimeout(r, Number(reply.headers.get('retry-after')) * 1000));
          reply = await send(app, dan, thread.id, { content: `n${i}` });
        }
        expect(reply.status).toBe(201);
      }
      const last = app.upstream.chatRequests.at(-1)!.body.messages as { role: string; content: string }[];
      expect(last).toHaveLength(139);
      expect(last[0]).toEqual({ role: 'user', content: 'n0' });
      expect(reply.body.assistantMessage.contextOmitted).toBeUndefined();
    });

    it('should refuse a send once the daily quota is spent', async () => {
      const quota = await startChatApp({ USER_DAILY_TOKEN_LIMIT: '30' });
      try {
        const user = await quota.signUp();
        const thread = await newThread(quota, user);
        quota.upstream.enqueue({ tokens: ['x'], usage: { prompt_tokens: 25, completion_tokens: 10 } });
        expect((await send(quota, user, thread.id, { content: 'first' })).status).toBe(201);
        const refused = await send(quota, user, thread.id, { content: 'second' });
        expect(refused.status).toBe(429);
        expect(refused.body.error).toBe('quota_exceeded');
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(quota.upstream.chatRequests).toHaveLength(1);
      } finally {
        await quota.close();
      }
    });

    it('should store one message and start one generation per clientMessageId, even when retried concurrently', async () => {
      const thread = await newThread(app, alice);
      app.upstream.enqueue({ tokens: ['once'], tokenDelayMs: 20 });
      const body = { content: 'idempotent', clientMessageId: 'c-123' };
      const [a, b] = await Promise.all([send(app, alice, thread.id, body), send(app, alice, thread.id, body)]);
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      expect(b.body.userMessage.id).toBe(a.body.userMessage.id);
      expect(b.body.assistantMessage.id).toBe(a.body.assistantMessage.id);
      const later = await send(app, alice, thread.id, body);
      expect(later.body.assistantMessage).toMatchObject({
        id: a.body.assistantMessage.id,
        content: 'once',
        status: 'complete',
      });
      expect(app.upstream.chatRequests).toHaveLength(1);
      const all = await app.request('GET', `/threads/${thread.id}/messages?branch=all`, { token: alice.accessToken });
      expect(all.body.items).toHaveLength(2);
    });

    it('should title a new chat after the first exchange', async () => {
      const created = await app.request('POST', '/threads', { token: alice.accessToken, body: {} });
      app.upstream.enqueue({ tokens: ['Sure.'] }, { tokens: ['"Weekend', ' hiking', ' plans"'] });
      await send(app, alice, created.body.id, { content: 'Help me plan a hike this weekend' });
      let title = '';
      for (let i = 0; i < 100 && !title.includes('hiking'); i++) {
        title = (await app.request('GET', `/threads/${created.body.id}`, { token: alice.accessToken })).body.title;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(title).toBe('Weekend hiking plans');
    });

    it('should export a thread as JSON (every branch) and as Markdown (the active branch)', async () => {
      const thread = await newThread(app, alice, { title: 'Export me', systemPrompt: 'Rules.' });
      app.upstream.script = (body) => ({ tokens: [`A to ${(body.messages as any[]).at(-1).content}`] });
      const first = await send(app, alice, thread.id, { content: 'Q1' });
      await send(app, alice, thread.id, { content: 'Q2' });
      await send(app, alice, thread.id, { content: 'Q2 edited', parentId: first.body.assistantMessage.id });
      const json = await app.request('GET', `/threads/${thread.id}/export?format=json`, { token: alice.accessToken });
      expect(json.status).toBe(200);
      expect(json.headers.get('content-disposition')).toContain('attachment');
      expect(json.body.thread).toMatchObject({ id: thread.id, title: 'Export me', systemPrompt: 'Rules.' });
      expect(json.body.messages.map((m: any) => m.content)).toEqual([
        'Q1',
        'A to Q1',
        'Q2',
        'A to Q2',
        'Q2 edited',
        'A to Q2 edited',
      ]);
      const md = await fetch(`${app.url}/api/threads/${thread.id}/export?format=markdown`, {
        headers: { authorization: `Bearer ${alice.accessToken}` },
      });
      expect(md.headers.get('content-type')).toMatch(/^text\/markdown/);
      const text = await md.text();
      expect(text).toContain('# Export me');
      expect(text).toContain('Q2 edited');
      expect(text).not.toContain('\nQ2\n');
      const bad = await app.request('GET', `/threads/${thread.id}/export?format=pdf`, { token: alice.accessToken });
      expect(bad.status).toBe(400);
    });

    it('should list models with the default', async () => {
      const res = await app.request('GET', '/models', { token: alice.accessToken });
      expect(res.body).toEqual({
        models: [
          { id: 'gpt-test', name: expect.any(String), contextWindow: 16000 },
          { id: 'gpt-small', name: expect.any(String), contextWindow: 600 },
        ],
        defaultModel: 'gpt-test',
        demo: false,
      });
    });
  });
});
