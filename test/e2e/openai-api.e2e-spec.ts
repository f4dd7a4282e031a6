import { UsageRepository } from '@app/persistence';
import OpenAI from 'openai';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { tempDir } from '../support/server-process';
import { echoTokens } from '../support/fake-upstream';
import { connect, replyOf } from '../support/socket-client';
import type { TestAccount } from './auth.fixtures';

const DAILY_LIMIT = 100_000;

describe('OpenAI-compatible API (/v1) through the official openai SDK', () => {
  let ctx: ChatApp;
  let admin: TestAccount;

  beforeAll(async () => {
    // WEB_DIR without a build: `/` then says where the API is (npm test builds the real web app into apps/web/dist).
    ctx = await startChatApp({ USER_DAILY_TOKEN_LIMIT: String(DAILY_LIMIT), WEB_DIR: tempDir('confab-no-web-') });
    admin = await ctx.signUp({ name: 'Root' });
  });
  afterAll(async () => {
    await ctx?.close();
  });
  beforeEach(() => ctx.upstream.reset());

  async function keyFor(account: TestAccount): Promise<{ id: string; key: string }> {
    const res = await ctx.request('POST', '/auth/me/keys', { token: account.accessToken, body: { name: 'sdk' } });
    expect(res.status).toBe(201);
    return res.body;
  }

  /** An SDK client on confab's /v1 with a personal key; `calls` counts the HTTP requests it makes (retries too). */
  function sdkFor(key: string, options: { maxRetries?: number } = {}) {
    const calls: string[] = [];
    const client = new OpenAI({
      apiKey: key,
      baseURL: `${ctx.url}/v1`,
      maxRetries: options.maxRetries ?? 0,
      fetch: (url, init) => {
        calls.push(String(url));
        return fetch(url, init);
      },
    });
    return { client, calls };
  }

  async function newUserClient() {
    const user = await ctx.signUp();
    const { id, key } = await keyFor(user);
    return { user, keyId: id, key, ...sdkFor(key) };
  }

  it('should list the models this server offers', async () => {
    const { client } = await newUserClient();
    const models = [];
    for await (const model of client.models.list()) {
      models.push(model);
    }
    expect(models.map((m) => m.id)).toEqual(['gpt-test', 'gpt-small']);
    for (const model of models) {
      expect(model).toEqual({ id: model.id, object: 'model', created: expect.any(Number), owned_by: 'confab' });
    }
  });

  it("should answer a non-streaming completion with the upstream's text and usage, storing only the usage", async () => {
    const { client, user } = await newUserClient();
    const completion = await client.chat.completions.create({
      model: 'gpt-small',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there friend' },
      ],
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 50,
      stop: ['END'],
      user: 'ignored-by-confab',
      seed: 7,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-small');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0].message).toMatchObject({ role: 'assistant', content: 'You said: hello there friend' });
    expect(completion.choices[0].finish_reason).toBe('stop');
    const [upstream] = ctx.upstream.chatRequests;
    expect(upstream.body).toMatchObject({
      model: 'gpt-small',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello there friend' },
      ],
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 50,
      stop: ['END'],
    });
    expect(upstream.body).not.toHaveProperty('user');
    expect(upstream.headers.authorization).toBe('Bearer sk-test-secret-key-0123456789');
    expect(completion.usage?.completion_tokens).toBe(echoTokens('hello there friend').length);
    expect(completion.usage?.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

    const me = await ctx.request('GET', '/auth/me', { token: user.accessToken });
    expect(me.body.usage.total).toEqual({
      promptTokens: completion.usage!.prompt_tokens,
      completionTokens: completion.usage!.completion_tokens,
    });
    expect((await ctx.request('GET', '/threads', { token: user.accessToken })).body.items).toEqual([]);
  });

  it("should stream the upstream's text in chunks, with a last usage chunk when asked", async () => {
    const { client } = await newUserClient();
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'stream me please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
    }
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(echoTokens('stream me please').join(''));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: echoTokens('stream me please').length });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    // No max_tokens from the client: the default reply budget goes upstream all the same (the quota is far).
    const sent = ctx.upstream.chatRequests[0].body;
    expect(sent.max_tokens ?? sent.max_completion_tokens).toBe(1024);
  });

  it("should pass a model's reasoning apart, as reasoning_content", async () => {
    const { client } = await newUserClient();
    ctx.upstream.enqueue({ reasoning: ['Let me', ' think.'], tokens: ['Yes', '.'] });
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'think first' }],
      stream: true,
    });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
    }
    expect([reasoning, content]).toEqual(['Let me think.', 'Yes.']);
    ctx.upstream.enqueue({ reasoning: ['Hmm.'], tokens: ['No', '.'] });
    const whole = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(whole.choices[0].message).toMatchObject({ content: 'No.', reasoning_content: 'Hmm.' });
  });

  it('should speak the wire format exactly: data frames only, then data: [DONE]', async () => {
    const { key } = await newUserClient();
    const res = await fetch(`${ctx.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'wire' }], stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const frames = (await res.text()).split('\n\n').filter(Boolean);
    expect(frames.every((f) => f.startsWith('data: '))).toBe(true);
    expect(frames.at(-1)).toBe('data: [DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    expect(chunks.every((c) => !('usage' in c))).toBe(true);
  });

  it('should stop the upstream request when the client aborts mid-stream', async () => {
    const { client, user } = await newUserClient();
    ctx.upstream.enqueue({ tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), tokenDelayMs: 50 });
    const arrived = ctx.upstream.nextRequest((r) => r.path === '/v1/chat/completions');
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'a long answer' }],
      stream: true,
    });
    let seen = '';
    for await (const chunk of stream) {
      seen += chunk.choices[0]?.delta.content ?? '';
      if (seen.includes('t1')) {
        stream.controller.abort();
        break;
      }
    }
    const upstream = await arrived;
    await ctx.upstream.clientClosed(upstream);
    expect(upstream.tokenTimes.length).toBeLessThan(200);
    // What was generated until then is counted.
    const deadline = Date.now() + 5000;
    let total = 0;
    while (total === 0 && Date.now() < deadline) {
      total = (await ctx.request('GET', '/auth/me', { token: user.accessToken })).body.usage.total.completionTokens;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(total).toBeGreaterThan(0);
  });

  it("should give AuthenticationError for a revoked key and a disabled user's key", async () => {
    const { client, user, keyId } = await newUserClient();
    await client.models.list();
    await ctx.request('DELETE', `/auth/me/keys/${keyId}`, { token: user.accessToken });
    const revoked = await client.models.list().catch((err: unknown) => err);
    expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(revoked).toMatchObject({ status: 401, code: 'invalid_api_key', type: 'invalid_request_error' });

    const other = await newUserClient();
    const ok = await other.client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.choices[0].message.content).toBe('You said: x');
    const disable = await ctx.request('PATCH', `/admin/users/${other.user.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    expect(disable.status).toBe(200);
    const disabled = await other.client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(disabled).toBeInstanceOf(OpenAI.AuthenticationError);
    const anonymous = await new OpenAI({
      apiKey: 'sk-not-a-confab-key',
      baseURL: `${ctx.url}/v1`,
      maxRetries: 0,
    }).models
      .list()
      .catch((err: unknown) => err);
    expect(anonymous).toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('should give RateLimitError for an exhausted daily quota, which the SDK does not retry', async () => {
    const { user, key } = await newUserClient();
    await ctx.app.get(UsageRepository).add(user.id, { promptTokens: DAILY_LIMIT, completionTokens: 0 }, new Date());
    const { client, calls } = sdkFor(key, { maxRetries: 3 });
    const err = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'more' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    const headers = (err as InstanceType<typeof OpenAI.RateLimitError>).headers;
    expect(headers.get('x-should-retry')).toBe('false');
    expect(Number(headers.get('retry-after'))).toBeGreaterThan(0);
    expect(calls).toHaveLength(1);
    const inThread = await client.chat.completions
      .create(
        { model: 'gpt-test', messages: [{ role: 'user', content: 'more' }] },
        { headers: { 'X-Confab-Thread': 'new' } },
      )
      .catch((e: unknown) => e);
    expect(inThread).toBeInstanceOf(OpenAI.RateLimitError);
    expect(calls).toHaveLength(2);
    expect(ctx.upstream.chatRequests).toHaveLength(0);
    expect((await ctx.request('GET', '/threads', { token: user.accessToken })).body.items).toEqual([]);
  });

  it('should raise in the SDK when the upstream fails mid-stream, without upstream details', async () => {
    const { client } = await newUserClient();
    ctx.upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], tokenDelayMs: 5, dropAfter: 2 });
    const stream = await client.chat.completions.create({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'fail please' }],
      stream: true,
    });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
    })().catch((e: unknown) => e);
    expect(text).toBe('ab');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ type: 'api_error', code: 'upstream_error' });
    const message = String((err as Error).message);
    expect(message).not.toContain(ctx.upstream.url.replace('http://', ''));
    expect(message).not.toContain('sk-test');

    ctx.upstream.enqueue({ status: 500, errorBody: { error: { message: `boom at ${ctx.upstream.url}` } } });
    const failed = await client.chat.completions
      .create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect(String((failed as Error).message)).not.toContain(ctx.upstream.url);
  });

  it('should answer bad requests in OpenAI error shape with the right status', async () => {
    const { client, key } = await newUserClient();
    const unknown = await client.chat.completions
      .create({ model: 'gpt-nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ code: 'model_not_found', param: 'model' });

    const raw = async (body: unknown) => {
      const res = await fetch(`${ctx.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { error: Record<string, unknown> } };
    };
    const user = [{ role: 'user', content: 'x' }];
    for (const [body, param] of [
      [{ model: 'gpt-test', messages: user, tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
      [{ model: 'gpt-test', messages: user, n: 2 }, 'n'],
      [{ model: 'gpt-test', messages: user, made_up_field: 1 }, 'made_up_field'],
      [{ model: 'gpt-test', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
      [{ model: 'gpt-test', messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }, 'messages[0].content'],
      [{ model: 'gpt-test', messages: [] }, 'messages'],
      [{ model: 'gpt-test', messages: user, temperature: 3 }, 'temperature'],
      [{ model: 'gpt-small', messages: [{ role: 'user', content: 'word '.repeat(1000) }] }, 'messages'],
    ] as const) {
      const res = await raw(body);
      expect([param, res.status]).toEqual([param, 400]);
      expect(res.body.error).toEqual({ message: expect.any(String), type: 'invalid_request_error', param, code: null });
    }
    const parts = await raw({
      model: 'gpt-test',
      messages: [
        {
          role: 'developer',
          content: [
            { type: 'text', text: 'Be ' },
            { type: 'text', text: 'kind.' },
          ],
        },
        ...user,
      ],
      tools: [],
      n: 1,
    });
    expect(parts.status).toBe(200);
    expect(ctx.upstream.chatRequests.at(-1)?.body.messages?.[0]).toEqual({ role: 'system', content: 'Be kind.' });

    const embeddings = await client.embeddings.create({ model: 'gpt-test', input: 'x' }).catch((e: unknown) => e);
    expect(embeddings).toBeInstanceOf(OpenAI.NotFoundError);
    expect(embeddings).toMatchObject({ code: 'not_found', type: 'invalid_request_error' });

    const malformed = await fetch(`${ctx.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"model": "gpt-test", "messages": [',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { message: 'Malformed JSON body', type: 'invalid_request_error', param: null, code: null },
    });

    const noKey = await fetch(`${ctx.url}/v1/models`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
  });

  it('should save the exchange into a new thread with X-Confab-Thread: new', async () => {
    const { client, user } = await newUserClient();
    const { data, response } = await client.chat.completions
      .create(
        {
          model: 'gpt-test',
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'user', content: 'first question' },
            { role: 'assistant', content: 'first answer' },
            { role: 'user', content: 'second question' },
          ],
        },
        { headers: { 'X-Confab-Thread': 'new' } },
      )
      .withResponse();
    const threadId = response.headers.get('x-confab-thread')!;
    expect(threadId).toMatch(/^[0-9a-f]{24}$/);
    expect(data.choices[0].message.content).toBe('You said: second question');
    expect(ctx.upstream.chatRequests[0].body.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]);
    const thread = await ctx.request('GET', `/threads/${threadId}`, { token: user.accessToken });
    expect(thread.body).toMatchObject({ systemPrompt: 'You are terse.', model: 'gpt-test' });
    const messages = await ctx.request('GET', `/threads/${threadId}/messages`, { token: user.accessToken });
    expect(
      messages.body.items.map((m: { role: string; content: string; status: string }) => [m.role, m.content]),
    ).toEqual([
      ['user', 'first question'],
      ['assistant', 'first answer'],
      ['user', 'second question'],
      ['assistant', 'You said: second question'],
    ]);
    expect(messages.body.items.at(-1).usage).toEqual({
      promptTokens: data.usage!.prompt_tokens,
      completionTokens: data.usage!.completion_tokens,
    });

    const bad = await client.chat.completions
      .create(
        {
          model: 'gpt-test',
          messages: [
            { role: 'user', content: 'a' },
            { role: 'user', content: 'b' },
          ],
        },
        { headers: { 'X-Confab-Thread': 'new' } },
      )
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    const foreign = await client.chat.completions
      .create(
        { model: 'gpt-test', messages: [{ role: 'user', content: 'a' }] },
        { headers: { 'X-Confab-Thread': admin.id } },
      )
      .catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("should stream into an existing thread with X-Confab-Thread: <id>, live on that thread's sockets", async () => {
    const { client, key, user } = await newUserClient();
    const thread = await ctx.request('POST', '/threads', { token: key, body: { title: 'Scripted' } });
    const socket = await connect(ctx.url, key);
    try {
      const joined = await socket.emitAck('thread:join', { threadId: thread.body.id });
      expect(joined.ok).toBe(true);
      const { data: stream, response } = await client.chat.completions
        .create(
          { model: 'gpt-test', messages: [{ role: 'user', content: 'seen live' }], stream: true },
          { headers: { 'X-Confab-Thread': thread.body.id } },
        )
        .withResponse();
      expect(response.headers.get('x-confab-thread')).toBe(thread.body.id);
      let text = '';
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
      }
      expect(text).toBe('You said: seen live');
      const created = await socket.next('message:created', (p: any) => p.message.role === 'assistant');
      const reply = await replyOf(socket, created.message.id);
      expect(reply.done.message.content).toBe(text);
      expect(reply.deltas.map((d) => d.delta).join('')).toBe(text);
      expect(socket.all('message:created', (p: any) => p.message.role === 'user')[0].message.content).toBe('seen live');
      const stored = await ctx.request('GET', `/threads/${thread.body.id}/messages`, { token: user.accessToken });
      expect(stored.body.items.map((m: { content: string }) => m.content)).toEqual(['seen live', text]);
    } finally {
      socket.close();
    }
  });

  it('should say where the API is at /api and, without a web app, at /', async () => {
    const index = await ctx.request('GET', '');
    expect(index.status).toBe(200);
    expect(index.body).toMatchObject({
      name: 'confab',
      version: expect.any(String),
      links: {
        docs: '/api/docs',
        openapi: '/api/docs-json',
        health: '/api/health',
        models: '/api/models',
        openai: '/v1',
      },
    });
    const root = await fetch(`${ctx.url}/`);
    expect(root.status).toBe(404);
    const body = (await root.json()) as { message: string };
    expect(body).toMatchObject({ statusCode: 404, error: 'not_found' });
    expect(body.message).toContain('/api');
    expect(body.message).toContain('/v1');
    const doc = (await ctx.request('GET', '/docs-json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/models', '/v1/chat/completions', '/api/auth/me/keys', '/api']),
    );
  });
});
