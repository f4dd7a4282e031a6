import { existsSync } from 'node:fs';
import { httpClient } from '../support/app-harness';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { MAIN_JS, type RunningServer, startServer, tempDir } from '../support/server-process';
import { openSse } from '../support/sse';
import { connect, type TestSocket } from '../support/socket-client';
import { accountsOf } from './auth.fixtures';

/** From the crash: the lease expires (at most 10 s after its last renewal) and a sweep runs (every 2 s). */
const REPAIRED_WITHIN_MS = 20_000;

/**
 * Issue 9, fault 3: after `kill -9` mid-stream and a restart within the lease time, the reply stayed `streaming`
 * for ever, the thread answered 409, and a retry with the same clientMessageId hung on REST, SSE and sockets.
 */
describe('A reply interrupted by a crash', () => {
  let upstream: FakeUpstream;
  let server: RunningServer | null = null;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN_JS)) {
      throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first (npm test does)`);
    }
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await server?.stop('SIGKILL');
    await upstream.close();
  });

  it('should be repaired by a sweep: followers end, retries answer, the thread is free again', async () => {
    const env = {
      DATA_DIR: tempDir(),
      OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_MAX_RETRIES: '0',
      MODELS: 'gpt-test:16000',
      SIGNUP_RATE_LIMIT: '1000/h',
    };
    server = await startServer(env);
    let request = httpClient(server.url);
    const ann = await accountsOf(request).signUp();
    const thread = (await request('POST', '/threads', { token: ann.accessToken, body: { title: 'Crash' } })).body;
    const send = { content: 'tell me a long story', clientMessageId: 'crash-1' };

    upstream.enqueue({ tokens: ['Once', ' upon', ' a', ' time'], stallAfter: 2 });
    const first = await openSse(`${server.url}/api/threads/${thread.id}/messages`, ann.accessToken, send);
    const created = await first.next();
    expect(created?.event).toBe('message');
    while ((await first.next())?.event !== 'delta') {
      // until the reply is streaming
    }
    // The growing text is written every 250 ms: wait until it is stored, then crash.
    for (let stored = ''; stored !== 'Once upon';) {
      const page = await request('GET', `/threads/${thread.id}/messages`, { token: ann.accessToken });
      stored = (page.body.items.find((m: any) => m.role === 'assistant')?.content as string | undefined) ?? '';
    }
    await server.stop('SIGKILL');
    first.abort();

    server = await startServer(env);
    request = httpClient(server.url);
    const restarted = Date.now();
    const socket = await connect(server.url, ann.accessToken);
    sockets.push(socket);
    await socket.emitAck('thread:join', { threadId: thread.id });

    // Every kind of follower of the interrupted reply, started before the repair.
    const [rest, sse, socketAck] = await Promise.all([
      request('POST', `/threads/${thread.id}/messages`, { token: ann.accessToken, body: send }),
      openSse(`${server.url}/api/threads/${thread.id}/messages`, ann.accessToken, send).then((s) => s.all()),
      socket.emitAck('message:send', { threadId: thread.id, ...send }),
    ]);
    // Followers attached before the repair get its end (`unavailable`, interrupted); on a slow machine the restart
    // itself can outlast the lease, the repair then runs at start, and they find the reply failed already.
    const repairedFirst = rest.status === 502;
    const end = repairedFirst
      ? { code: 'upstream_error', message: expect.any(String) }
      : { code: 'unavailable', message: expect.stringContaining('interrupted') };
    expect(rest.body).toMatchObject({ statusCode: repairedFirst ? 502 : 503, error: end.code });
    expect(sse.at(-1)).toEqual({ event: 'error', data: { messageId: expect.any(String), error: end } });
    const replyId = sse.at(-1)!.data.messageId as string;
    expect(socketAck).toMatchObject({ ok: true, assistantMessageId: replyId });
    if (!repairedFirst) {
      await socket.next('message:error', (p: any) => p.messageId === replyId, REPAIRED_WITHIN_MS);
    }
    expect(Date.now() - restarted).toBeLessThan(REPAIRED_WITHIN_MS);

    const messages = await request('GET', `/threads/${thread.id}/messages`, { token: ann.accessToken });
    expect(messages.body.items.find((m: any) => m.id === replyId)).toMatchObject({
      status: 'error',
      content: 'Once upon',
    });
    upstream.enqueue({ tokens: ['Fine'] });
    const again = await request('POST', `/threads/${thread.id}/messages`, {
      token: ann.accessToken,
      body: { content: 'try again' },
    });
    expect(again.status).toBe(201);
    expect(again.body.assistantMessage).toMatchObject({ status: 'complete', content: 'Fine' });
  }, 60_000);
});
