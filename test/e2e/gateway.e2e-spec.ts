import { TokenVerifier, type VerifiedAccess } from '@app/auth';
import { MAX_CONNECTIONS_PER_USER } from '@app/gateway';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { type FakeReply, lastUserText } from '../support/fake-upstream';
import { connect, once, refusal, replyOf, TestSocket } from '../support/socket-client';
import { type TestAccount, unsignedJwt } from './auth.fixtures';

const UNKNOWN_ID = '0123456789abcdef01234567';
const now = () => Math.floor(Date.now() / 1000);

describe('ChatGateway', () => {
  let ctx: ChatApp;
  let admin: TestAccount;
  const sockets: TestSocket[] = [];
  /** Replies scripted per test: the upstream answers a prompt containing the key with the reply. */
  const replies = new Map<string, FakeReply>();

  beforeAll(async () => {
    ctx = await startChatApp();
    admin = await ctx.signUp({ name: 'Root' });
    expect(admin.role).toBe('admin');
    ctx.upstream.script = (body) => {
      const text = lastUserText(body);
      return [...replies].find(([key]) => text.includes(key))?.[1];
    };
  });
  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await ctx.close();
  });

  /** A key to put in a prompt so that the upstream answers it with `reply`. */
  function script(reply: FakeReply): string {
    const key = `k-${randomUUID()}`;
    replies.set(key, reply);
    return key;
  }

  async function open(account: { accessToken: string }): Promise<TestSocket> {
    const socket = await connect(ctx.url, account.accessToken);
    sockets.push(socket);
    return socket;
  }

  async function newThread(account: TestAccount, title = 'Gateway test'): Promise<{ id: string; title: string }> {
    // An explicit title: no title generation, so the upstream only sees the requests a test makes.
    const res = await ctx.request('POST', '/threads', { token: account.accessToken, body: { title } });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function joined(socket: TestSocket, threadId: string) {
    const ack = await socket.emitAck('thread:join', { threadId });
    expect(ack).toMatchObject({ ok: true, thread: { id: threadId } });
    return ack;
  }

  function requestsFor(key: string) {
    return ctx.upstream.chatRequests.filter((r) => lastUserText(r.body).includes(key));
  }

  const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  describe('handshake', () => {
    let account: TestAccount;
    let claims: { sub: string; sid: string };
    const sign = (payload: object, secret = ctx.config.jwtSecret) =>
      new JwtService({ secret }).sign({ iat: now(), exp: now() + 600, ...payload });

    beforeAll(async () => {
      account = await ctx.signUp();
      claims = new JwtService().decode(account.accessToken);
    });

    it('should accept a live access token (the control for the cases below)', async () => {
      const socket = await open(account);
      expect(socket.connected).toBe(true);
      expect(await socket.emitAck('thread:leave', { threadId: UNKNOWN_ID })).toEqual({ ok: true });
    });

    it.each<[string, () => Record<string, unknown>]>([
      ['no token', () => ({})],
      ['an empty token', () => ({ token: '' })],
      ['a token that is not a string', () => ({ token: { $ne: null } })],
      ['garbage', () => ({ token: 'not.a.jwt' })],
      ['a token signed with another secret', () => ({ token: sign(claims, `${ctx.config.jwtSecret}-forged`) })],
      ['an expired token', () => ({ token: sign({ ...claims, typ: 'access', iat: now() - 120, exp: now() - 60 }) })],
      [
        'an alg "none" token',
        () => ({
          token: unsignedJwt({ alg: 'none', typ: 'JWT' }, { ...claims, typ: 'access', iat: now(), exp: now() + 600 }),
        }),
      ],
      ['a refresh token', () => ({ token: account.refreshToken })],
      ['a token of another type', () => ({ token: sign({ ...claims, typ: 'refresh' }) })],
    ])('should refuse a handshake with %s as "unauthorized"', async (_name, auth) => {
      expect(await refusal(ctx.url, auth())).toBe('unauthorized');
    });

    it('should refuse a disabled user and accept them again once enabled', async () => {
      const user = await ctx.signUp();
      const disable = (disabled: boolean) =>
        ctx.request('PATCH', `/admin/users/${user.id}`, { token: admin.accessToken, body: { disabled } });
      expect((await disable(true)).status).toBe(200);
      expect(await refusal(ctx.url, { token: user.accessToken })).toBe('unauthorized');
      expect((await disable(false)).status).toBe(200);
      // Disabling revoked every session: the old token stays refused, a new sign-in is accepted.
      expect(await refusal(ctx.url, { token: user.accessToken })).toBe('unauthorized');
      const login = await ctx.login(user);
      expect(login.status).toBe(200);
      expect((await open({ accessToken: login.body.accessToken })).connected).toBe(true);
    });

    it('should refuse a session revoked while its handshake was being checked', async () => {
      const user = await ctx.signUp();
      const verifier = ctx.app.get(TokenVerifier);
      const original = verifier.verify.bind(verifier);
      let checked!: () => void;
      const sessionChecked = new Promise<void>((r) => (checked = r));
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      // The first check reads the session while it is live, then the answer is held back until the revocation.
      let calls = 0;
      verifier.verify = async (token: string): Promise<VerifiedAccess> => {
        const result = await original(token);
        if (calls++ === 0) {
          checked();
          await released;
        }
        return result;
      };
      try {
        const attempt = refusal(ctx.url, { token: user.accessToken });
        await sessionChecked;
        const res = await ctx.request('PATCH', `/admin/users/${user.id}`, {
          token: admin.accessToken,
          body: { disabled: true },
        });
        expect(res.status).toBe(200);
        release();
        expect(await attempt).toBe('unauthorized');
      } finally {
        verifier.verify = original;
      }
    });
  });

  describe('revocation', () => {
    it('should disconnect every socket of a user at once when an admin disables them', async () => {
      const user = await ctx.signUp();
      const second = await ctx.login(user);
      const [a, b] = await Promise.all([open(user), open({ accessToken: second.body.accessToken })]);
      const bystander = await open(await ctx.signUp());
      const disconnects = [a.disconnected(), b.disconnected()];
      const res = await ctx.request('PATCH', `/admin/users/${user.id}`, {
        token: admin.accessToken,
        body: { disabled: true },
      });
      expect(res.status).toBe(200);
      expect(await Promise.all(disconnects)).toEqual(['io server disconnect', 'io server disconnect']);
      expect(bystander.connected).toBe(true);
      expect(await bystander.emitAck('thread:leave', { threadId: UNKNOWN_ID })).toEqual({ ok: true });
    });

    it('should disconnect the sockets of the session that logs out and keep the other sessions', async () => {
      const user = await ctx.signUp();
      const second = await ctx.login(user);
      expect(second.status).toBe(200);
      const thread = await newThread(user);
      const [loggingOut, other] = await Promise.all([open(user), open({ accessToken: second.body.accessToken })]);
      const gone = loggingOut.disconnected();
      const res = await ctx.request('POST', '/auth/logout', { body: { refreshToken: user.refreshToken } });
      expect(res.status).toBe(204);
      expect(await gone).toBe('io server disconnect');
      expect(other.connected).toBe(true);
      await joined(other, thread.id);
      expect(await refusal(ctx.url, { token: user.accessToken })).toBe('unauthorized');
    });

    it('should disconnect a user who deletes their account and one an admin deletes', async () => {
      const self = await ctx.signUp();
      const deleted = await ctx.signUp();
      const [selfSocket, deletedSocket] = await Promise.all([open(self), open(deleted)]);
      const gone = [selfSocket.disconnected(), deletedSocket.disconnected()];
      const own = await ctx.request('DELETE', '/auth/me', {
        token: self.accessToken,
        body: { password: self.password },
      });
      expect(own.status).toBe(204);
      const byAdmin = await ctx.request('DELETE', `/admin/users/${deleted.id}`, { token: admin.accessToken });
      expect(byAdmin.status).toBe(204);
      expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
    });
  });

  describe('acks and validation', () => {
    it('should answer not_found to a join of a foreign or unknown thread, and to a stop there', async () => {
      const owner = await ctx.signUp();
      const stranger = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(stranger);
      const notFound = { ok: false, error: { code: 'not_found', message: expect.any(String) } };
      expect(await socket.emitAck('thread:join', { threadId: thread.id })).toEqual(notFound);
      expect(await socket.emitAck('thread:join', { threadId: UNKNOWN_ID })).toEqual(notFound);
      expect(await socket.emitAck('generation:stop', { threadId: thread.id })).toEqual(notFound);
      expect(await socket.emitAck('message:send', { threadId: thread.id, content: 'hi' })).toEqual(notFound);
      const messages = await ctx.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
      expect(messages.body.items).toEqual([]);
    });

    it('should answer validation_failed to malformed payloads and keep serving the socket', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      const cases: [string, unknown[]][] = [
        ['thread:join', [{}]],
        ['thread:join', [{ threadId: 42 }]],
        ['thread:join', [{ threadId: thread.id, extra: true }]],
        ['thread:join', [{ threadId: { $gt: '' } }]],
        ['thread:join', ['not an object']],
        ['thread:join', [[thread.id]]],
        ['thread:join', []],
        ['message:send', [{ threadId: thread.id, content: { $gt: '' } }]],
        ['message:send', [{ threadId: thread.id }]],
        ['message:send', [{ threadId: thread.id, content: 'hi', temperature: 'hot' }]],
        ['thread:leave', [null]],
        ['generation:stop', [{ threadId: 'not-an-id' }]],
        // socket.io parses JSON, so these arrive as own properties, exactly as an attacker would send them
        ['thread:join', [JSON.parse(`{"threadId":"${thread.id}","__proto__":{"x":1}}`)]],
        ['message:send', [JSON.parse(`{"threadId":"${thread.id}","content":"hi","constructor":{"role":"admin"}}`)]],
      ];
      for (const [event, args] of cases) {
        const ack = await socket.emitAck(event, ...args);
        expect({ event, args, ack }).toEqual({
          event,
          args,
          ack: { ok: false, error: expect.objectContaining({ code: 'validation_failed' }) },
        });
      }
      const extra = await socket.emitAck('thread:join', { threadId: thread.id, extra: true });
      expect(extra.error.details).toEqual([expect.objectContaining({ field: 'extra' })]);
      expect(socket.connected).toBe(true);
      await joined(socket, thread.id);
      const messages = await ctx.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
      expect(messages.body.items).toEqual([]);
      expect(ctx.upstream.chatRequests.filter((r) => lastUserText(r.body) === 'hi')).toEqual([]);
    });

    it('should ack every client event', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      expect(await socket.emitAck('thread:join', { threadId: thread.id })).toEqual({
        ok: true,
        thread: expect.objectContaining({ id: thread.id, title: thread.title }),
        streaming: null,
      });
      expect(await socket.emitAck('generation:stop', { threadId: thread.id })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      const key = script({ tokens: ['ok'] });
      const sent = await socket.emitAck('message:send', { threadId: thread.id, content: key });
      expect(sent).toMatchObject({ ok: true });
      await replyOf(socket, sent.assistantMessageId);
      expect(await socket.emitAck('thread:leave', { threadId: thread.id })).toEqual({ ok: true });
    });
  });

  describe('streaming', () => {
    it('should stream a reply to every tab that joined the thread, and to no one else', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const [tab1, tab2, notJoined, stranger] = await Promise.all([
        open(owner),
        open(owner),
        open(owner),
        open(await ctx.signUp()),
      ]);
      await Promise.all([joined(tab1, thread.id), joined(tab2, thread.id)]);
      const tokens = ['Hello', ' there', ',', ' my', ' friend', '!'];
      const key = script({ tokens, tokenDelayMs: 5 });
      const content = `Greet me ${key}`;

      const ack = await tab1.emitAck('message:send', { threadId: thread.id, content });
      expect(ack).toEqual({
        ok: true,
        userMessage: expect.objectContaining({ threadId: thread.id, role: 'user', content, status: 'complete' }),
        assistantMessageId: expect.any(String),
      });
      const assistantId: string = ack.assistantMessageId;

      for (const tab of [tab1, tab2]) {
        const { deltas, done } = await replyOf(tab, assistantId);
        expect(
          tab.all('message:created').map((p) => [p.threadId, p.message.id, p.message.role, p.message.status]),
        ).toEqual([
          [thread.id, ack.userMessage.id, 'user', 'complete'],
          [thread.id, assistantId, 'assistant', 'streaming'],
        ]);
        expect(deltas.length).toBeGreaterThan(1);
        expect(deltas.map((d) => d.seq)).toEqual(seqs(1, deltas.length));
        expect(deltas.map((d) => d.delta).join('')).toBe(tokens.join(''));
        expect(done).toEqual({
          threadId: thread.id,
          message: expect.objectContaining({
            id: assistantId,
            parentId: ack.userMessage.id,
            role: 'assistant',
            status: 'complete',
            content: tokens.join(''),
          }),
        });
        // created, created, deltas..., done: in this order.
        const order = tab.events().map((r) => r.event);
        expect(order).toEqual([
          'message:created',
          'message:created',
          ...deltas.map(() => 'message:delta'),
          'message:done',
        ]);
      }
      const stored = await ctx.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
      expect(stored.body.items.map((m: any) => [m.id, m.status, m.content])).toEqual([
        [ack.userMessage.id, 'complete', content],
        [assistantId, 'complete', tokens.join('')],
      ]);
      // The owner's tab that did not join and another user's socket heard nothing.
      await tab1.emitAck('thread:leave', { threadId: thread.id }); // a round trip: anything sent has arrived
      expect(notJoined.events()).toEqual([]);
      expect(stranger.events()).toEqual([]);
    });

    it('should relay reasoning deltas with kind "reasoning", apart from the answer', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      await joined(socket, thread.id);
      const key = script({ reasoning: ['Hmm', ', yes'], tokens: ['Sure', '.'] });

      const ack = await socket.emitAck('message:send', { threadId: thread.id, content: key });
      const { deltas, done } = await replyOf(socket, ack.assistantMessageId);

      expect(deltas.map((d) => d.seq)).toEqual(seqs(1, deltas.length));
      const reasoning = deltas.filter((d) => d.kind === 'reasoning');
      expect(reasoning.map((d) => d.delta).join('')).toBe('Hmm, yes');
      expect(
        deltas
          .filter((d) => d.kind === undefined)
          .map((d) => d.delta)
          .join(''),
      ).toBe('Sure.');
      expect(done.message).toMatchObject({ content: 'Sure.', reasoning: 'Hmm, yes' });
    });

    it('should stop relaying to a tab that left the thread', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const [stays, leaves] = await Promise.all([open(owner), open(owner)]);
      await Promise.all([joined(stays, thread.id), joined(leaves, thread.id)]);
      expect(await leaves.emitAck('thread:leave', { threadId: thread.id })).toEqual({ ok: true });
      const ack = await stays.emitAck('message:send', { threadId: thread.id, content: script({}) });
      await replyOf(stays, ack.assistantMessageId);
      await leaves.emitAck('thread:leave', { threadId: thread.id });
      expect(leaves.events()).toEqual([]);
    });

    it("should relay to a thread's room again once it is joined again after its last tab left", async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const tab = await open(owner);
      await joined(tab, thread.id);
      const first = await tab.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['On', 'e.'] }),
      });
      expect((await replyOf(tab, first.assistantMessageId)).done.message.content).toBe('One.');
      // The last socket leaves: the room is gone (and with it what the relay knew of it) until the join again.
      expect(await tab.emitAck('thread:leave', { threadId: thread.id })).toEqual({ ok: true });
      await joined(tab, thread.id);
      const again = await tab.emitAck('message:send', {
        threadId: thread.id,
        content: script({ tokens: ['Tw', 'o.'] }),
      });
      const reply = await replyOf(tab, again.assistantMessageId);
      expect(reply.deltas.map((d) => d.delta).join('')).toBe('Two.');
      expect(reply.done.message.content).toBe('Two.');
    });

    it('should store one message and start one generation for a clientMessageId sent twice in a row', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      await joined(socket, thread.id);
      const key = script({ tokens: ['once', ' only'] });
      const payload = { threadId: thread.id, content: `Retry me ${key}`, clientMessageId: randomUUID() };
      const first = await socket.emitAck('message:send', payload);
      expect(first.ok).toBe(true);
      const { done } = await replyOf(socket, first.assistantMessageId);
      const again = await socket.emitAck('message:send', payload);
      expect(again).toEqual(first);
      expect(done.message.content).toBe('once only');
      expect(requestsFor(key)).toHaveLength(1);
      const stored = await ctx.request('GET', `/threads/${thread.id}/messages?branch=all`, {
        token: owner.accessToken,
      });
      expect(stored.body.items.map((m: any) => m.id)).toEqual([first.userMessage.id, first.assistantMessageId]);
    });

    it('should store one message and start one generation for a clientMessageId sent twice at once', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const [tab1, tab2] = await Promise.all([open(owner), open(owner)]);
      await Promise.all([joined(tab1, thread.id), joined(tab2, thread.id)]);
      const key = script({ tokens: ['just', ' one'], tokenDelayMs: 10 });
      const payload = { threadId: thread.id, content: `Race me ${key}`, clientMessageId: randomUUID() };
      const [a, b] = await Promise.all([tab1.emitAck('message:send', payload), tab2.emitAck('message:send', payload)]);
      expect(a).toMatchObject({ ok: true });
      expect(b).toEqual(a);
      const { done } = await replyOf(tab1, a.assistantMessageId);
      expect(done.message.content).toBe('just one');
      expect(requestsFor(key)).toHaveLength(1);
      expect(tab1.all('message:created').map((p) => p.message.id)).toEqual([a.userMessage.id, a.assistantMessageId]);
    });

    it('should stop a generation on generation:stop, closing the upstream request', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      await joined(socket, thread.id);
      const key = script({ tokens: ['par', 'tial', ' never', ' sent'], stallAfter: 2 });
      const request = ctx.upstream.nextRequest((r) => lastUserText(r.body).includes(key));
      const ack = await socket.emitAck('message:send', { threadId: thread.id, content: `Stop me ${key}` });
      await socket.until(() => socket.deltaText() === 'partial' || undefined, 'the two tokens sent before the stall');
      expect(await socket.emitAck('generation:stop', { threadId: thread.id })).toEqual({ ok: true });
      await ctx.upstream.clientClosed(await request);
      const { done } = await replyOf(socket, ack.assistantMessageId);
      expect(done.message).toMatchObject({ id: ack.assistantMessageId, status: 'stopped', content: 'partial' });
      const stored = await ctx.request('GET', `/threads/${thread.id}/messages`, { token: owner.accessToken });
      expect(stored.body.items[1]).toMatchObject({ id: ack.assistantMessageId, status: 'stopped', content: 'partial' });
      expect(await socket.emitAck('generation:stop', { threadId: thread.id })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
    });

    it('should give a tab that joins mid-stream the reply so far and then only the later deltas', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const [first, late] = await Promise.all([open(owner), open(owner)]);
      await joined(first, thread.id);
      const tokens = Array.from({ length: 30 }, (_, i) => `t${i} `);
      const key = script({ tokens, tokenDelayMs: 30 });
      const ack = await first.emitAck('message:send', { threadId: thread.id, content: `Count ${key}` });
      await first.until(() => (first.all('message:delta').length >= 3 ? true : undefined), 'three deltas');

      const join = await late.emitAck('thread:join', { threadId: thread.id });
      expect(join).toMatchObject({ ok: true, streaming: { messageId: ack.assistantMessageId } });
      const snapshot: { messageId: string; content: string; seq: number } = join.streaming;
      expect(snapshot.seq).toBeGreaterThanOrEqual(3);
      expect(snapshot.content).toBe(
        first
          .all('message:delta')
          .slice(0, snapshot.seq)
          .map((p) => p.delta)
          .join(''),
      );

      const seen = await replyOf(late, ack.assistantMessageId);
      const all = await replyOf(first, ack.assistantMessageId);
      expect(seen.deltas.length).toBeGreaterThan(0);
      expect(seen.deltas.map((d) => d.seq)).toEqual(seqs(snapshot.seq + 1, all.deltas.length));
      expect(snapshot.content + seen.deltas.map((d) => d.delta).join('')).toBe(seen.done.message.content);
      expect(seen.done.message.content).toBe(tokens.join(''));
      // The ack came first, and the late tab was not told about the messages created before it joined.
      expect(late.received[0]).toEqual({ event: 'ack:thread:join', payload: join });
      expect(late.all('message:created')).toEqual([]);
    });

    it("should tell every tab of the owner about a thread's new title, whether it joined the thread or not", async () => {
      const owner = await ctx.signUp();
      const stranger = await ctx.signUp();
      const [inRoom, elsewhere, theirs] = await Promise.all([open(owner), open(owner), open(stranger)]);
      // A new chat answered over REST, no socket in its room: the generated title still reaches every tab (the
      // sidebar), once each, and no one else's.
      const created = await ctx.request('POST', '/threads', { token: owner.accessToken, body: {} });
      await joined(inRoom, created.body.id);
      ctx.upstream.enqueue({ tokens: ['Sure.'] }, { tokens: ['Pasta', ' dinner'] });
      const sent = await ctx.request('POST', `/threads/${created.body.id}/messages`, {
        token: owner.accessToken,
        body: { content: 'What should I cook tonight?' },
      });
      expect(sent.status).toBe(201);
      for (const tab of [inRoom, elsewhere]) {
        const { thread } = await tab.next('thread:updated', (p: any) => p.thread.title === 'Pasta dinner');
        expect(thread).toMatchObject({ id: created.body.id, title: 'Pasta dinner' });
      }
      const rename = await ctx.request('PATCH', `/threads/${created.body.id}`, {
        token: owner.accessToken,
        body: { title: 'Renamed' },
      });
      expect(await elsewhere.next('thread:updated', (p: any) => p.thread.title === 'Renamed')).toEqual({
        thread: rename.body,
      });
      await inRoom.next('thread:updated', (p: any) => p.thread.title === 'Renamed');
      // Every packet of one relay is written before a later ack on any socket: the stranger got nothing.
      await theirs.emitAck('thread:leave', { threadId: created.body.id });
      expect(theirs.all('thread:updated')).toEqual([]);
      expect(inRoom.all('thread:updated')).toHaveLength(2);
      expect(elsewhere.all('thread:updated')).toHaveLength(2);
    });

    it('should tell every tab about a renamed and a deleted thread', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const [tab1, tab2] = await Promise.all([open(owner), open(owner)]);
      await Promise.all([joined(tab1, thread.id), joined(tab2, thread.id)]);
      const rename = await ctx.request('PATCH', `/threads/${thread.id}`, {
        token: owner.accessToken,
        body: { title: 'Renamed' },
      });
      expect(rename.status).toBe(200);
      for (const tab of [tab1, tab2]) {
        expect(await tab.next('thread:updated')).toEqual({ thread: rename.body });
      }
      const removed = await ctx.request('DELETE', `/threads/${thread.id}`, { token: owner.accessToken });
      expect(removed.status).toBe(204);
      for (const tab of [tab1, tab2]) {
        expect(await tab.next('thread:deleted')).toEqual({ threadId: thread.id });
      }
      expect(await tab1.emitAck('thread:join', { threadId: thread.id })).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
    });
  });

  describe('limits', () => {
    it('should answer a flood of events with rate_limited acks and keep the socket connected', async () => {
      const owner = await ctx.signUp();
      const thread = await newThread(owner);
      const socket = await open(owner);
      const acks = await Promise.all(
        Array.from({ length: 100 }, () => socket.emitAck('thread:join', { threadId: thread.id })),
      );
      const limited = acks.filter((a) => !a.ok);
      expect(limited.length).toBeGreaterThan(0);
      expect(acks.filter((a) => a.ok).length).toBeGreaterThan(0);
      expect(limited[0]).toEqual({ ok: false, error: { code: 'rate_limited', message: expect.any(String) } });
      expect(new Set(limited.map((a) => a.error.code))).toEqual(new Set(['rate_limited']));
      expect(socket.connected).toBe(true);
      // Another tab of the same user is not held back by this socket's budget.
      const other = await open(owner);
      await joined(other, thread.id);
    });

    it('should refuse more connections of one user than the limit and accept one when another closes', async () => {
      const owner = await ctx.signUp();
      const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS_PER_USER }, () => open(owner)));
      expect(await refusal(ctx.url, { token: owner.accessToken })).toBe('rate_limited');
      // Another user is not affected.
      expect((await open(await ctx.signUp())).connected).toBe(true);
      const closing = held[0];
      const gone = once(closing.io, 'disconnect');
      closing.close();
      await gone;
      await expect(
        (async () => {
          // The server notices the close on its next read; retry the handshake until it has (bounded).
          for (let attempt = 0; attempt < 50; attempt++) {
            try {
              return await open(owner);
            } catch {
              await new Promise((r) => setTimeout(r, 20));
            }
          }
          throw new Error('still refused');
        })(),
      ).resolves.toBeInstanceOf(TestSocket);
    });

    it('should not count handshakes whose client went away before they were checked', async () => {
      const owner = await ctx.signUp();
      const verifier = ctx.app.get(TokenVerifier);
      const original = verifier.verify.bind(verifier);
      let settled = 0;
      let onSettled: () => void = () => undefined;
      // A slow session store (a remote database): the client is gone before the answer.
      verifier.verify = async (token: string): Promise<VerifiedAccess> => {
        try {
          await new Promise((r) => setTimeout(r, 100));
          return await original(token);
        } finally {
          settled++;
          onSettled();
        }
      };
      const attempts = MAX_CONNECTIONS_PER_USER + 2;
      try {
        const allSettled = new Promise<void>((r) => (onSettled = () => settled >= attempts && r()));
        for (let i = 0; i < attempts; i++) {
          const socket = new TestSocket(ctx.url, { token: owner.accessToken });
          sockets.push(socket);
          // Registered after the socket's own listener: the CONNECT packet is written, then the connection closed.
          socket.io.io.once('open', () => socket.io.io.engine.close());
        }
        await allSettled;
      } finally {
        verifier.verify = original;
      }
      expect((await open(owner)).connected).toBe(true);
    });
  });
});
