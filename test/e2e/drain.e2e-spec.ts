import Database from 'better-sqlite3';
import { join } from 'node:path';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { connect } from '../support/socket-client';
import { type RunningServer, startServer, tempDir } from '../support/server-process';
import { openSse } from '../support/sse';

/** The built server as its own process (as in a container), its provider pointed at the fake upstream. */
function serverEnv(upstream: FakeUpstream, dataDir: string, extra: Record<string, string> = {}) {
  return {
    DATA_DIR: dataDir,
    BCRYPT_COST: '4',
    OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_MAX_RETRIES: '0',
    MODELS: 'gpt-test:16000',
    ...extra,
  };
}

async function json(server: RunningServer, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${server.url}/api${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

async function userWithThreads(server: RunningServer, count: number) {
  const signup = await json(server, 'POST', '/auth/signup', undefined, {
    email: `drain-${Date.now()}-${Math.random()}@example.com`,
    password: 'drain-password',
    name: 'Drain',
  });
  expect(signup.status).toBe(201);
  const token = signup.body.accessToken as string;
  const threads: string[] = [];
  for (let i = 0; i < count; i++) {
    // An explicit title: no title-generation call mixes into the upstream's requests.
    threads.push((await json(server, 'POST', '/threads', token, { title: `Thread ${i}` })).body.id as string);
  }
  return { token, threads };
}

async function storedReply(server: RunningServer, token: string, threadId: string) {
  const res = await json(server, 'GET', `/threads/${threadId}/messages`, token);
  return (res.body.items as { role: string; status: string; content: string }[]).find((m) => m.role === 'assistant')!;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const exitOf = (server: RunningServer) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      resolve({ code: server.child.exitCode, signal: server.child.signalCode });
      return;
    }
    server.child.once('exit', (code, signal) => resolve({ code, signal }));
  });

describe('drain on SIGTERM', () => {
  let upstream: FakeUpstream;
  const servers: RunningServer[] = [];
  const start = async (env: Record<string, string>) => {
    const server = await startServer(env);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterEach(async () => {
    upstream.reset();
    await Promise.all(servers.splice(0).map((s) => s.stop('SIGKILL')));
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('should refuse new sends with unavailable, turn readiness 503, finish the running reply and exit 0', async () => {
    const dataDir = tempDir();
    const server = await start(serverEnv(upstream, dataDir));
    const { token, threads } = await userWithThreads(server, 3);
    const socket = await connect(server.url, token);
    const apiKey = (await json(server, 'POST', '/auth/me/keys', token, { name: 'drain' })).body.key as string;
    const tokens = Array.from({ length: 16 }, (_, i) => `t${i} `);
    upstream.enqueue({ tokens, tokenDelayMs: 100 });
    const stream = await openSse(`${server.url}/api/threads/${threads[0]}/messages`, token, { content: 'long one' });
    expect(stream.status).toBe(200);
    await until(async () => stream.events.find((e) => e.event === 'delta'), 'the first delta');

    server.child.kill('SIGTERM');
    const exited = exitOf(server);
    await socket.next('server:draining');
    const ready = await json(server, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'draining' });

    const rest = await json(server, 'POST', `/threads/${threads[1]}/messages`, token, { content: 'too late' });
    expect(rest.status).toBe(503);
    expect(rest.body).toMatchObject({ statusCode: 503, error: 'unavailable' });
    expect(rest.headers.get('retry-after')).toBe('1');
    const refusedSse = await openSse(`${server.url}/api/threads/${threads[1]}/messages`, token, { content: 'sse' });
    expect(refusedSse.status).toBe(503);
    expect(refusedSse.errorBody).toMatchObject({ error: 'unavailable' });
    const ack = await socket.emitAck('message:send', { threadId: threads[2], content: 'socket' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const openai = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'stateless' }] }),
    });
    expect(openai.status).toBe(503);
    expect(await openai.json()).toMatchObject({ error: { code: 'unavailable' } });

    const events = await stream.all();
    const done = events.at(-1)!;
    expect(done.event).toBe('done');
    expect(done.data).toMatchObject({ status: 'complete', content: tokens.join('') });
    await expect(socket.disconnected()).resolves.toBe('transport close');
    await expect(exited).resolves.toEqual({ code: 0, signal: null });
    // Only the first reply ever reached the upstream.
    expect(upstream.requests.filter((r) => r.path.endsWith('/chat/completions'))).toHaveLength(1);

    const again = await start(serverEnv(upstream, dataDir));
    await expect(storedReply(again, token, threads[0])).resolves.toMatchObject({
      status: 'complete',
      content: tokens.join(''),
    });
    const untouched = await json(again, 'GET', `/threads/${threads[1]}/messages`, token);
    expect(untouched.body.items).toEqual([]);
  }, 40_000);

  it('should stop a reply still running after SHUTDOWN_GRACE and store its partial text', async () => {
    const dataDir = tempDir();
    const server = await start(serverEnv(upstream, dataDir, { SHUTDOWN_GRACE: '1s' }));
    const { token, threads } = await userWithThreads(server, 1);
    // Three tokens, then silence: the reply would never end by itself.
    upstream.enqueue({ tokens: ['one ', 'two ', 'three ', 'four '], stallAfter: 3 });
    const stream = await openSse(`${server.url}/api/threads/${threads[0]}/messages`, token, { content: 'stall' });
    const streamed = () =>
      stream.events
        .filter((e) => e.event === 'delta')
        .map((e) => e.data.delta as string)
        .join('');
    await until(async () => (streamed() === 'one two three ' ? true : undefined), 'three tokens');
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    const events = await stream.all();
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'stopped', content: 'one two three ' } });
    await expect(exitOf(server)).resolves.toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(900);

    const again = await start(serverEnv(upstream, dataDir));
    await expect(storedReply(again, token, threads[0])).resolves.toMatchObject({
      status: 'stopped',
      content: 'one two three ',
    });
  }, 40_000);

  it('should leave a reply killed mid-stream (SIGKILL) that the next start marks interrupted', async () => {
    const dataDir = tempDir();
    const server = await start(serverEnv(upstream, dataDir));
    const { token, threads } = await userWithThreads(server, 1);
    upstream.enqueue({ tokens: ['kept ', 'partial ', 'never'], stallAfter: 2 });
    const stream = await openSse(`${server.url}/api/threads/${threads[0]}/messages`, token, { content: 'crash' });
    await until(async () => (stream.events.some((e) => e.event === 'delta') ? true : undefined), 'a delta');
    // Past one flush interval (250 ms), so the partial text is in the database.
    await new Promise((r) => setTimeout(r, 600));
    await expect(server.stop('SIGKILL')).resolves.toEqual({ code: null, signal: 'SIGKILL' });

    const db = new Database(join(dataDir, 'confab.db'));
    const row = db.prepare("SELECT id, status, content FROM messages WHERE role = 'assistant'").get() as {
      id: string;
      status: string;
      content: string;
    };
    expect(row).toMatchObject({ status: 'streaming', content: 'kept partial ' });
    // A reply counts as interrupted once its generation has stopped renewing its lease (another instance might still
    // be running a fresher one): age this one as if the restart came a few minutes later.
    db.prepare('UPDATE messages SET updated_at = updated_at - 300000 WHERE id = ?').run(row.id);
    db.close();

    const again = await start(serverEnv(upstream, dataDir));
    await expect(storedReply(again, token, threads[0])).resolves.toMatchObject({
      status: 'error',
      content: 'kept partial ',
    });
    stream.abort();
  }, 40_000);
});
