import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, tempDir } from '../support/server-process';
import { httpClient } from '../support/app-harness';
import { accountsOf } from './auth.fixtures';

describe('server hardening (smaller items)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let dataDir: string;
  const request = () => httpClient(server.url);

  beforeAll(async () => {
    dataDir = tempDir();
    // The built server as its own process, logging every request as in production (JSON lines on stdout).
    server = await startServer({ DATA_DIR: dataDir, LOG_LEVEL: 'info', BCRYPT_COST: '4' });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('should keep tokens in ?token= query strings and x-api-key headers out of the log line of a request', async () => {
    const secret = `tok-${Date.now()}-secret`;
    const key = `cfk_${'k'.repeat(40)}`;
    const res = await fetch(`${server.url}/api/threads?token=${secret}&q=hello&api_key=${secret}-2`, {
      headers: { 'x-api-key': key, authorization: `Bearer ${secret}-3` },
    });
    expect(res.status).toBe(401);
    const deadline = Date.now() + 5000;
    let line: string | undefined;
    while (!line && Date.now() < deadline) {
      line = server
        .output()
        .split('\n')
        .find((l) => l.includes('/api/threads?') && l.includes('"req"'));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(line).toBeDefined();
    const entry = JSON.parse(line!) as { req: { url: string; query: Record<string, string>; headers: object } };
    expect(entry.req.url).toBe('/api/threads?token=[redacted]&q=hello&api_key=[redacted]');
    expect(entry.req.query).toMatchObject({ token: '[redacted]', q: 'hello', api_key: '[redacted]' });
    expect(entry.req.headers).toMatchObject({ 'x-api-key': '[redacted]', authorization: '[redacted]' });
    expect(server.output()).not.toContain(secret);
    expect(server.output()).not.toContain(key);
  });

  it('should create the SQLite database and its WAL and SHM files 0600', async () => {
    await accountsOf(request()).signUp();
    const file = join(dataDir, 'confab.db');
    expect([file, `${file}-wal`, `${file}-shm`].map((f) => statSync(f).mode & 0o777)).toEqual([0o600, 0o600, 0o600]);
  });

  it('should refuse a title of only spaces with 400 validation_failed, on create and on rename', async () => {
    const http = request();
    const account = await accountsOf(http).signUp();
    const created = await http('POST', '/threads', { token: account.accessToken, body: { title: 'Kept' } });
    expect(created.status).toBe(201);
    const rename = await http('PATCH', `/threads/${created.body.id}`, {
      token: account.accessToken,
      body: { title: '   ' },
    });
    expect(rename.status).toBe(400);
    expect(rename.body).toMatchObject({
      statusCode: 400,
      error: 'validation_failed',
      details: [{ field: 'title', message: expect.stringMatching(/blank/) }],
    });
    const blank = await http('POST', '/threads', { token: account.accessToken, body: { title: ' \t ' } });
    expect(blank).toMatchObject({ status: 400, body: { error: 'validation_failed' } });
    const kept = await http('GET', `/threads/${created.body.id}`, { token: account.accessToken });
    expect(kept.body.title).toBe('Kept');
  });
});
