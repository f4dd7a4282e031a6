import OpenAI from 'openai';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { billByMaxTokens, maxTokensOf, promptOf } from '../support/quota-upstream';
import { connect, type TestSocket } from '../support/socket-client';
import type { TestAccount } from './auth.fixtures';

const DAILY_LIMIT = 100;
/** Replies want this many tokens; a request's max_tokens (when sent) cuts them, as a real provider does. */
const REPLY_TOKENS = 60;

type ApiError = InstanceType<typeof OpenAI.APIError>;

/**
 * Issue 9, fault 5 on the OpenAI-compatible API (/v1/chat/completions, driven by the official `openai` SDK): the
 * same quota reservation and max_tokens cap, the same per-user cap on concurrent generations and the same per-user
 * request budget as the web app's sends.
 */
describe('OpenAI-compatible API limits (quota, concurrency, rate)', () => {
  let app: ChatApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    app = await startChatApp({ USER_DAILY_TOKEN_LIMIT: String(DAILY_LIMIT), USER_MAX_CONCURRENT: '3' });
  });
  beforeEach(() => {
    app.upstream.reset();
    billByMaxTokens(app.upstream, REPLY_TOKENS);
  });
  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });
  afterAll(async () => {
    await app?.close();
  });

  async function sdkUser(): Promise<{ user: TestAccount; client: OpenAI }> {
    const user = await app.signUp();
    const res = await app.request('POST', '/auth/me/keys', { token: user.accessToken, body: { name: 'sdk' } });
    expect(res.status).toBe(201);
    return { user, client: new OpenAI({ apiKey: res.body.key as string, baseURL: `${app.url}/v1`, maxRetries: 0 }) };
  }

  async function usedToday(user: TestAccount): Promise<number> {
    const me = await app.request('GET', '/auth/me', { token: user.accessToken });
    return me.body.usage.today.promptTokens + me.body.usage.today.completionTokens;
  }

  const ask = (client: OpenAI, content = 'hi', extra: { max_tokens?: number } = {}) =>
    client.chat.completions.create({ ...base(content), ...extra });

  it('should reserve each completion so that parallel ones never spend more than the daily quota', async () => {
    const { user, client } = await sdkUser();
    const results = await Promise.allSettled([0, 1, 2].map(() => ask(client)));
    const answered = results.filter((r) => r.status === 'fulfilled');
    expect(answered.length).toBeGreaterThanOrEqual(1);
    for (const refused of results.filter((r) => r.status === 'rejected')) {
      expect(refused.reason).toBeInstanceOf(OpenAI.RateLimitError);
      expect(refused.reason).toMatchObject({ status: 429, code: 'insufficient_quota' });
    }
    // Three at once want 3 x (8 + 60): without a reservation they all ran and spent twice the limit.
    expect(await usedToday(user)).toBeLessThanOrEqual(DAILY_LIMIT);
    expect(app.upstream.chatRequests).toHaveLength(answered.length);
    for (const request of app.upstream.chatRequests) {
      expect(maxTokensOf(request)).toBeLessThanOrEqual(DAILY_LIMIT - promptOf(request));
    }
  });

  it('should always send max_tokens upstream: the caller’s, else the default budget, capped by the quota left', async () => {
    const { user, client } = await sdkUser();
    const first = await ask(client, 'hi', { max_tokens: 10 });
    expect(first.usage).toMatchObject({ completion_tokens: 10 });
    expect(maxTokensOf(app.upstream.chatRequests[0])).toBe(10);
    // No max_tokens from the client: the default budget (1024) is more than is left, so what is left goes upstream.
    await ask(client, 'more please');
    const second = app.upstream.chatRequests[1];
    const spentBefore = first.usage!.prompt_tokens + first.usage!.completion_tokens;
    expect(maxTokensOf(second)).toBe(DAILY_LIMIT - spentBefore - promptOf(second));
    expect(await usedToday(user)).toBeLessThanOrEqual(DAILY_LIMIT);
  });

  it('should cap concurrent generations per user at USER_MAX_CONCURRENT, thread replies and /v1 together', async () => {
    const { user, client } = await sdkUser();
    app.upstream.script = () => ({ tokens: [' a', ' b'], stallAfter: 1, usage: null });
    const attempts = await Promise.allSettled(
      [0, 1, 2, 3, 4].map(() => client.chat.completions.create({ ...base('hi'), stream: true, max_tokens: 5 })),
    );
    const open = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as ApiError] : []));
    expect(open).toHaveLength(3);
    expect(refused).toHaveLength(2);
    for (const err of refused) {
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
      expect(err.message).toMatch(/Too many replies being generated/);
    }
    // The web app's send counts against the same slots.
    const thread = await app.request('POST', '/threads', { token: user.accessToken, body: { title: 'Busy' } });
    const send = await app.request('POST', `/threads/${thread.body.id}/messages`, {
      token: user.accessToken,
      body: { content: 'hi', maxTokens: 5 },
    });
    expect(send.status).toBe(429);
    expect(send.body).toMatchObject({ statusCode: 429, error: 'rate_limited' });
    // Closing the streams closes their upstream requests and frees the slots: a next completion runs.
    open.forEach((stream) => stream.controller.abort());
    await Promise.all(app.upstream.chatRequests.map((r) => app.upstream.settled(r)));
    app.upstream.script = () => ({ tokens: [' done'], usage: { prompt_tokens: 8, completion_tokens: 1 } });
    let answer: OpenAI.ChatCompletion | null = null;
    while (!answer) {
      // The slots are given back once each closed completion has recorded its usage: a few milliseconds.
      answer = await ask(client, 'again', { max_tokens: 5 }).catch(async (err: ApiError) => {
        expect(err.message).toMatch(/Too many replies being generated/);
        await new Promise((r) => setTimeout(r, 20));
        return null;
      });
    }
    expect(answer.choices[0].message.content).toBe(' done');
  });

  it('should rate-limit /v1 requests with the same per-user budget as REST sends and socket events', async () => {
    const { user, client } = await sdkUser();
    const thread = await app.request('POST', '/threads', { token: user.accessToken, body: { title: 'Rate' } });
    const four = await Promise.all([0, 1, 2, 3].map(() => connect(app.url, user.accessToken)));
    sockets.push(...four);
    app.upstream.script = () => ({ tokens: [' ok'], usage: { prompt_tokens: 1, completion_tokens: 1 } });
    // 4 sockets x 20 events and 40 completions at once: the completions alone are under the user's burst of 60, so
    // only a budget shared with the sockets refuses some of them for their rate (the bucket refills 20 a second).
    const [acks, calls] = await Promise.all([
      Promise.all(
        four.flatMap((s) => Array.from({ length: 20 }, () => s.emitAck('thread:leave', { threadId: thread.body.id }))),
      ),
      Promise.allSettled(Array.from({ length: 40 }, () => ask(client, 'x', { max_tokens: 1 }))),
    ]);
    expect(acks.some((a) => a.ok === false && a.error.code === 'rate_limited')).toBe(true);
    const slowDown = calls.flatMap((c) =>
      c.status === 'rejected' && /slow down/.test((c.reason as ApiError).message) ? [c.reason as ApiError] : [],
    );
    expect(slowDown.length).toBeGreaterThanOrEqual(1);
    expect(slowDown[0]).toBeInstanceOf(OpenAI.RateLimitError);
    expect(slowDown[0]).toMatchObject({ status: 429, code: 'rate_limit_exceeded' });
    expect(slowDown[0].headers?.get('retry-after')).toMatch(/^\d+$/);
  });
});

function base(content: string) {
  return { model: 'gpt-test', messages: [{ role: 'user' as const, content }] };
}
