import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { billByMaxTokens, maxTokensOf, promptOf } from '../support/quota-upstream';
import { connect, type TestSocket } from '../support/socket-client';
import { openSse } from '../support/sse';
import type { TestAccount } from './auth.fixtures';

const DAILY_LIMIT = 100;
/** What the title requests are billed for their prompt. */
const PROMPT_TOKENS = 10;
/** Replies want this many tokens; a request's max_tokens (when sent) cuts them, as a real provider does. */
const REPLY_TOKENS = 60;

/**
 * Issue 9, fault 5: with a daily limit of 100 tokens, 5 parallel sends spent 340 (the quota was checked, not
 * reserved); no max_tokens went upstream unless the client sent one; no cap on concurrent generations; REST sends
 * had no rate limit; titles were not counted.
 */
describe('Quota, cost and concurrency', () => {
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
    await app.close();
  });

  async function threadsOf(user: TestAccount, n: number, title: string | null = 'Quota'): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const res = await app.request('POST', '/threads', { token: user.accessToken, body: title ? { title } : {} });
      ids.push(res.body.id as string);
    }
    return ids;
  }

  async function usedToday(user: TestAccount): Promise<number> {
    const me = await app.request('GET', '/auth/me', { token: user.accessToken });
    return me.body.usage.today.promptTokens + me.body.usage.today.completionTokens;
  }

  it('should reserve each reply budget so that parallel sends never spend more than the daily quota', async () => {
    const ann = await app.signUp();
    const threads = await threadsOf(ann, 5);
    const results = await Promise.all(
      threads.map((id) =>
        app.request('POST', `/threads/${id}/messages`, { token: ann.accessToken, body: { content: 'hi' } }),
      ),
    );
    const accepted = results.filter((r) => r.status === 201);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const refused of results.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ statusCode: 429, error: 'quota_exceeded' });
    }
    expect(await usedToday(ann)).toBeLessThanOrEqual(DAILY_LIMIT);
    for (const request of app.upstream.chatRequests) {
      expect(maxTokensOf(request)).toBeLessThanOrEqual(DAILY_LIMIT - promptOf(request));
    }
  });

  it('should always send max_tokens upstream: the reply budget, capped by what is left of the quota', async () => {
    const ann = await app.signUp();
    const [thread] = await threadsOf(ann, 1);
    const first = await app.request('POST', `/threads/${thread}/messages`, {
      token: ann.accessToken,
      body: { content: 'hi', maxTokens: 20 },
    });
    expect(first.status).toBe(201);
    expect(maxTokensOf(app.upstream.chatRequests[0])).toBe(20);
    const second = await app.request('POST', `/threads/${thread}/messages`, {
      token: ann.accessToken,
      body: { content: 'more' },
    });
    expect(second.status).toBe(201);
    // What the first spent is gone, and the second's prompt is reserved too.
    const spent = first.body.assistantMessage.usage.promptTokens + first.body.assistantMessage.usage.completionTokens;
    const sent = maxTokensOf(app.upstream.chatRequests[1])!;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBe(DAILY_LIMIT - spent - promptOf(app.upstream.chatRequests[1]));
  });

  it('should cap concurrent generations per user at USER_MAX_CONCURRENT', async () => {
    const ann = await app.signUp();
    const threads = await threadsOf(ann, 5);
    app.upstream.script = () => ({ tokens: [' a', ' b'], stallAfter: 1, usage: null });
    const streams = await Promise.all(
      threads.map((id) =>
        openSse(`${app.url}/api/threads/${id}/messages`, ann.accessToken, { content: 'hi', maxTokens: 5 }),
      ),
    );
    // The accepted replies stream until stopped; the refused ones answer at once.
    const refused = streams.filter((s) => s.status === 429);
    expect(refused).toHaveLength(2);
    for (const s of refused) {
      expect(s.errorBody).toMatchObject({ statusCode: 429, error: 'rate_limited' });
    }
    expect(streams.filter((s) => s.status === 200)).toHaveLength(3);
    await Promise.all(threads.map((id) => app.request('POST', `/threads/${id}/stop`, { token: ann.accessToken })));
    await Promise.all(streams.filter((s) => s.status === 200).map((s) => s.all()));
  });

  it('should rate-limit REST sends with the same per-user bucket as socket events', async () => {
    const bob = await app.signUp();
    const [thread] = await threadsOf(bob, 1);
    const six = await Promise.all([0, 1, 2, 3, 4, 5].map(() => connect(app.url, bob.accessToken)));
    sockets.push(...six);
    // 6 sockets x 20 events and 50 REST sends at once: the REST sends alone are under the user's burst of 60, so
    // only a budget shared with the sockets refuses some of them (the bucket refills 20 a second meanwhile).
    const [acks, sends] = await Promise.all([
      Promise.all(
        six.flatMap((s) => Array.from({ length: 20 }, () => s.emitAck('thread:leave', { threadId: thread }))),
      ),
      Promise.all(
        Array.from({ length: 50 }, () =>
          app.request('POST', `/threads/${thread}/messages`, { token: bob.accessToken, body: { content: 'hi' } }),
        ),
      ),
    ]);
    expect(acks.some((a) => a.ok === false && a.error.code === 'rate_limited')).toBe(true);
    const limited = sends.filter((r) => r.status === 429 && /slow down/.test(r.body.message as string));
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0].body).toMatchObject({ statusCode: 429, error: 'rate_limited' });
    expect(limited[0].headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('should count title generation as usage', async () => {
    // Its own server without a quota: the title is reserved like a reply, and 100 tokens leave no room for both.
    const other = await startChatApp();
    try {
      const cy = await other.signUp();
      const thread = (await other.request('POST', '/threads', { token: cy.accessToken, body: {} })).body.id as string;
      other.upstream.script = (body) => ({
        tokens: body.max_tokens === 24 ? ['A', ' title'] : [' w'],
        usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: body.max_tokens === 24 ? 2 : 1 },
      });
      const titled = new Promise<void>((resolve) => {
        other.upstream.on('settled', (r) => r.body.max_tokens === 24 && resolve());
      });
      const res = await other.request('POST', `/threads/${thread}/messages`, {
        token: cy.accessToken,
        body: { content: 'hi' },
      });
      expect(res.status).toBe(201);
      // Without a quota, max_tokens is the default reply budget: sent all the same.
      expect(maxTokensOf(other.upstream.chatRequests[0])).toBe(1024);
      await titled;
      // The title request settled upstream; its usage is recorded right after: poll the profile (bounded by jest).
      let used = 0;
      while (used < 2 * PROMPT_TOKENS + 3) {
        const me = await other.request('GET', '/auth/me', { token: cy.accessToken });
        used = me.body.usage.today.promptTokens + me.body.usage.today.completionTokens;
      }
      expect(used).toBe(2 * PROMPT_TOKENS + 3);
    } finally {
      await other.close();
    }
  });
});
