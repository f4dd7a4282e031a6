import { existsSync, readFileSync } from 'node:fs';
import { runServer, startServer, tempDir } from '../support/server-process';

describe('server start-up', () => {
  it.each([
    ['a non-numeric PORT', { PORT: 'abc' }, 'PORT must be an integer'],
    ['a malformed MONGODB_URI', { MONGODB_URI: 'not-a-url' }, 'MONGODB_URI must be a URL'],
    ['production without JWT_SECRET', { NODE_ENV: 'production' }, 'JWT_SECRET is required when NODE_ENV=production'],
  ])(
    'should refuse %s with one line and exit code 1',
    async (_name, env, message) => {
      const result = await runServer({ DATA_DIR: tempDir(), ...env });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(message);
      expect(result.stderr).not.toMatch(/\bat \S+ \(/); // no stack trace
      expect(result.stdout).toBe('');
    },
    30_000,
  );

  it('should refuse a provider configuration with one line per problem, never echoing a header value', async () => {
    const result = await runServer({
      DATA_DIR: tempDir(),
      PROVIDERS: 'openai,openrouter,openai',
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      OPENROUTER_HEADERS: '{"X-Secret": "hdr-s3cret"',
    });

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('OPENROUTER_BASE_URL is required for provider "openrouter"'),
      'confab: invalid configuration: OPENROUTER_HEADERS must be a JSON object (it is not valid JSON)',
      'confab: invalid configuration: PROVIDERS names "openai" twice',
    ]);
    expect(result.stderr).not.toContain('hdr-s3cret');
    expect(result.stdout).toBe('');
  }, 30_000);

  it('should serve health on the embedded database and keep data across a restart', async () => {
    const dataDir = tempDir();
    const first = await startServer({ DATA_DIR: dataDir, BCRYPT_COST: '4' });
    const health = await (await fetch(`${first.url}/api/health`)).json();
    expect(health).toEqual({
      status: 'ok',
      database: 'sqlite',
      redis: 'disabled',
      providers: [{ name: 'demo', status: 'ok', models: 1, checkedAt: null }],
    });
    const ready = await fetch(`${first.url}/api/health/ready`);
    expect(ready.status).toBe(200);
    const json = { 'content-type': 'application/json' };
    const account = { email: 'restart@example.com', password: 'restart-password', name: 'Re Start' };
    const signup = await fetch(`${first.url}/api/auth/signup`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(account),
    });
    expect(signup.status).toBe(201);
    const { accessToken } = (await signup.json()) as { accessToken: string };
    const auth = { ...json, authorization: `Bearer ${accessToken}` };
    const created = await fetch(`${first.url}/api/threads`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ title: 'Kept' }),
    });
    const thread = (await created.json()) as { id: string };
    // SIGTERM drains, then closes the app: the database is closed cleanly, which removes SQLite's WAL file.
    expect(existsSync(`${dataDir}/confab.db-wal`)).toBe(true);
    await expect(first.stop('SIGTERM')).resolves.toEqual({ code: 0, signal: null });
    expect(existsSync(`${dataDir}/confab.db-wal`)).toBe(false);
    const secret = readFileSync(`${dataDir}/jwt-secret`, 'utf8');
    const second = await startServer({ DATA_DIR: dataDir, BCRYPT_COST: '4' });
    expect(readFileSync(`${dataDir}/jwt-secret`, 'utf8')).toBe(secret);
    // Data written before the restart is there after it, and the access token is still valid (same secret).
    const kept = await fetch(`${second.url}/api/threads/${thread.id}`, { headers: auth });
    expect(kept.status).toBe(200);
    expect(await kept.json()).toMatchObject({ id: thread.id, title: 'Kept' });
    const login = await fetch(`${second.url}/api/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: account.email, password: account.password }),
    });
    expect(login.status).toBe(200);
    await second.stop();
  }, 30_000);
});
