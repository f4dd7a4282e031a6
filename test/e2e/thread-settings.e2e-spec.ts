import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import type { TestAccount } from './auth.fixtures';

describe('Thread reply settings (temperature, maxTokens)', () => {
  let app: ChatApp;
  let alice: TestAccount;

  beforeAll(async () => {
    app = await startChatApp();
    alice = await app.signUp();
  });
  afterAll(async () => {
    await app.close();
  });

  const lastUpstreamBody = () => app.upstream.chatRequests[app.upstream.chatRequests.length - 1].body;
  const send = (threadId: string, body: Record<string, unknown>) =>
    app.request('POST', `/threads/${threadId}/messages`, { token: alice.accessToken, body });

  it('should store them on the thread and use them for replies unless a message names its own', async () => {
    const created = await app.request('POST', '/threads', {
      token: alice.accessToken,
      body: { title: 'Tuned', temperature: 0.2, maxTokens: 300 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ temperature: 0.2, maxTokens: 300 });
    const id: string = created.body.id;

    expect((await send(id, { content: 'first' })).status).toBe(201);
    expect(lastUpstreamBody()).toMatchObject({ temperature: 0.2, max_tokens: 300 });

    expect((await send(id, { content: 'second', temperature: 1.5 })).status).toBe(201);
    expect(lastUpstreamBody()).toMatchObject({ temperature: 1.5, max_tokens: 300 });

    const cleared = await app.request('PATCH', `/threads/${id}`, {
      token: alice.accessToken,
      body: { temperature: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ temperature: null, maxTokens: 300 });
    expect((await send(id, { content: 'third' })).status).toBe(201);
    expect(lastUpstreamBody().temperature).toBeUndefined();
    expect(lastUpstreamBody()).toMatchObject({ max_tokens: 300 });

    const got = await app.request('GET', `/threads/${id}`, { token: alice.accessToken });
    expect(got.body).toMatchObject({ temperature: null, maxTokens: 300 });
  });

  it('should default to null and refuse values out of range with validation_failed', async () => {
    const created = await app.request('POST', '/threads', { token: alice.accessToken, body: { title: 'Plain' } });
    expect(created.body).toMatchObject({ temperature: null, maxTokens: null });
    for (const body of [{ temperature: 2.5 }, { temperature: 'hot' }, { maxTokens: 0 }, { maxTokens: 1.5 }]) {
      const res = await app.request('PATCH', `/threads/${created.body.id}`, { token: alice.accessToken, body });
      expect([JSON.stringify(body), res.status, res.body.error]).toEqual([
        JSON.stringify(body),
        400,
        'validation_failed',
      ]);
    }
  });
});
