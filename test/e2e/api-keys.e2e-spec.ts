import { type AccountEvent, AccountEvents } from '@app/auth';
import { ApiKeyRepository } from '@app/persistence';
import { RedisProcess, redisServerAvailable } from '../support/redis-process';
import { tempDir } from '../support/server-process';
import { connect, refusal } from '../support/socket-client';
import { startAuthApp, type TestAccount } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

const KEY_FIELDS = ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix'];

describe('personal API keys', () => {
  let ctx: Ctx;
  let admin: TestAccount;

  beforeAll(async () => {
    ctx = await startAuthApp();
    admin = await ctx.signUp({ name: 'Root' });
  });
  afterAll(async () => {
    await ctx?.close();
  });

  async function newKey(account: TestAccount, body: Record<string, unknown> = { name: 'script' }) {
    const res = await ctx.request('POST', '/auth/me/keys', { token: account.accessToken, body });
    expect(res.status).toBe(201);
    return res.body as { id: string; key: string; prefix: string; name: string; lastUsedAt: string | null };
  }

  it('should show the key once, list it without the secret and authenticate as its owner', async () => {
    const user = await ctx.signUp();
    const created = await newKey(user, { name: '  CI pipeline  ' });
    expect(Object.keys(created).sort()).toEqual([...KEY_FIELDS, 'key'].sort());
    expect(created).toMatchObject({ name: 'CI pipeline', expiresAt: null, lastUsedAt: null });
    expect(created.key).toMatch(/^cfk_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);

    const list = await ctx.request('GET', '/auth/me/keys', { token: user.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.items.map((k: object) => Object.keys(k).sort())).toEqual([KEY_FIELDS]);
    expect(JSON.stringify(list.body)).not.toContain(created.key.slice(created.prefix.length));

    const me = await ctx.request('GET', '/auth/me', { token: created.key });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email: user.email });
    expect((await ctx.request('GET', '/threads', { token: created.key })).status).toBe(200);
    expect((await ctx.request('GET', '/models', { token: created.key })).status).toBe(200);
    const thread = await ctx.request('POST', '/threads', { token: created.key, body: { title: 'By key' } });
    expect(thread.status).toBe(201);
    const mine = await ctx.request('GET', `/threads/${thread.body.id}`, { token: user.accessToken });
    expect(mine.body.title).toBe('By key');
  });

  it('should refuse unknown, malformed and other-shaped keys with 401', async () => {
    for (const token of [`cfk_${'A'.repeat(43)}`, 'cfk_short', `cfk_${'A'.repeat(44)}`]) {
      const res = await ctx.request('GET', '/auth/me', { token });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    }
  });

  it('should refuse a key on every route that does not accept keys, and only there', async () => {
    const key = (await newKey(admin)).key;
    const doc = (await ctx.request('GET', '/docs-json')).body as {
      paths: Record<string, Record<string, { security?: unknown[]; 'x-api-key'?: boolean }>>;
    };
    const guarded: string[] = [];
    const open: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation.security?.length) {
          continue; // public: signup, login, refresh, logout, health
        }
        (operation['x-api-key'] ? open : guarded).push(`${method.toUpperCase()} ${path}`);
      }
    }
    // The routes the issue names on both sides, so that a change to the rule cannot pass unnoticed.
    expect(guarded).toEqual(
      expect.arrayContaining([
        'POST /api/auth/password',
        'DELETE /api/auth/me',
        'PATCH /api/auth/me',
        'GET /api/auth/me/export',
        'POST /api/auth/me/keys',
        'GET /api/auth/me/keys',
        'DELETE /api/auth/me/keys/{id}',
        'GET /api/auth/me/usage',
        'GET /api/auth/me/sessions',
        'POST /api/auth/me/sessions/revoke-others',
        'DELETE /api/auth/me/sessions/{id}',
        'GET /api/admin/users',
        'PATCH /api/admin/users/{id}',
        'DELETE /api/admin/users/{id}',
        'GET /api/admin/audit',
        'GET /api/admin/stats',
      ]),
    );
    expect(open).toEqual(
      expect.arrayContaining(['GET /api/auth/me', 'GET /api/models', 'GET /api/threads', 'POST /api/threads']),
    );
    expect(open.filter((route) => /\/(admin|password|keys)\b|\/auth\/me\/export/.test(route))).toEqual([]);
    for (const route of guarded) {
      const [method, path] = route.split(' ');
      const res = await ctx.request(method, path.replace(/^\/api/, '').replace(/\{\w+\}/g, admin.id), {
        token: key,
        body: method === 'GET' ? undefined : {},
      });
      expect([route, res.status, res.body?.error]).toEqual([route, 403, 'forbidden']);
    }
    // Nothing happened to the account behind those calls.
    const me = await ctx.request('GET', '/auth/me', { token: admin.accessToken });
    expect(me.status).toBe(200);
    expect((await ctx.request('GET', '/auth/me/keys', { token: admin.accessToken })).body.items.length).toBe(1);
  });

  it('should stop a revoked key at once, over HTTP and on its open sockets', async () => {
    const user = await ctx.signUp();
    const other = await ctx.signUp();
    const { id, key } = await newKey(user);
    expect((await ctx.request('GET', '/auth/me', { token: key })).status).toBe(200);
    const socket = await connect(ctx.url, key);
    try {
      expect((await ctx.request('DELETE', `/auth/me/keys/${id}`, { token: other.accessToken })).status).toBe(404);
      const gone = socket.disconnected();
      expect((await ctx.request('DELETE', `/auth/me/keys/${id}`, { token: user.accessToken })).status).toBe(204);
      expect((await ctx.request('GET', '/auth/me', { token: key })).status).toBe(401);
      await gone;
      expect(await refusal(ctx.url, { token: key })).toBe('unauthorized');
      expect((await ctx.request('DELETE', `/auth/me/keys/${id}`, { token: user.accessToken })).status).toBe(404);
    } finally {
      socket.close();
    }
  });

  it("should stop a disabled or deleted user's keys at once", async () => {
    const user = await ctx.signUp();
    const { key } = await newKey(user);
    const socket = await connect(ctx.url, key);
    const gone = socket.disconnected();
    expect((await ctx.request('GET', '/threads', { token: key })).status).toBe(200);
    const disable = await ctx.request('PATCH', `/admin/users/${user.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    expect(disable.status).toBe(200);
    expect((await ctx.request('GET', '/threads', { token: key })).status).toBe(401);
    await gone;
    await ctx.request('PATCH', `/admin/users/${user.id}`, { token: admin.accessToken, body: { disabled: false } });
    expect((await ctx.request('GET', '/threads', { token: key })).status).toBe(200);
    expect((await ctx.request('DELETE', `/admin/users/${user.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await ctx.request('GET', '/threads', { token: key })).status).toBe(401);
  });

  it('should validate names and expiry, stop an expired key and keep a user at 20 keys', async () => {
    const user = await ctx.signUp();
    const bad = async (body: unknown) =>
      (await ctx.request('POST', '/auth/me/keys', { token: user.accessToken, body })).body;
    expect(await bad({ name: '' })).toMatchObject({ error: 'validation_failed' });
    expect(await bad({ name: 'x', expiresAt: 'tomorrow' })).toMatchObject({ error: 'validation_failed' });
    expect(await bad({ name: 'x', expiresAt: new Date(Date.now() - 1000).toISOString() })).toMatchObject({
      error: 'validation_failed',
      details: [{ field: 'expiresAt' }],
    });
    expect(await bad({ name: 'x', userId: admin.id })).toMatchObject({ error: 'validation_failed' });

    const expiring = await newKey(user, { name: 'short-lived', expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await ctx.request('GET', '/auth/me', { token: expiring.key })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    let status = 200;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await ctx.request('GET', '/auth/me', { token: expiring.key })).status;
    }
    expect(status).toBe(401);

    for (let i = 1; i < 20; i++) {
      await newKey(user, { name: `key ${i}` });
    }
    const over = await ctx.request('POST', '/auth/me/keys', { token: user.accessToken, body: { name: '21st' } });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ error: 'conflict' });
  });

  it('should record the last use at most once a minute and show key counts to admins', async () => {
    const user = await ctx.signUp({ name: `counted-${Date.now()}` });
    const { id, key } = await newKey(user);
    await newKey(user, { name: 'second' });
    const repo = ctx.app.get(ApiKeyRepository);
    const lastUsed = async () => (await repo.listForUser(user.id)).find((k) => k.id === id)!.lastUsedAt;
    expect(await lastUsed()).toBeNull();
    await ctx.request('GET', '/auth/me', { token: key });
    const first = await (async () => {
      for (let i = 0; i < 50; i++) {
        const at = await lastUsed();
        if (at) {
          return at;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return null;
    })();
    expect(first).toBeInstanceOf(Date);
    for (let i = 0; i < 5; i++) {
      await ctx.request('GET', '/threads', { token: key });
    }
    expect((await lastUsed())?.getTime()).toBe(first!.getTime());
    const listed = await ctx.request('GET', '/auth/me/keys', { token: user.accessToken });
    expect(listed.body.items.find((k: { id: string }) => k.id === id).lastUsedAt).toBe(first!.toISOString());

    const users = await ctx.request('GET', `/admin/users?q=${encodeURIComponent(user.name)}`, {
      token: admin.accessToken,
    });
    expect(users.body.items).toEqual([expect.objectContaining({ id: user.id, apiKeyCount: 2 })]);
  });
});

// Without redis-server on this machine the multi-instance behaviour cannot be shown; CI installs it (.ci/run).
const describeWithRedis = redisServerAvailable() || process.env.CI === 'true' ? describe : describe.skip;

describeWithRedis('personal API keys on two instances sharing Redis', () => {
  let redis: RedisProcess;
  let a: Ctx;
  let b: Ctx;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    const env = { DATA_DIR: tempDir(), REDIS_URL: redis.url };
    a = await startAuthApp(env);
    b = await startAuthApp(env);
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
  });

  it('should stop a key revoked on one instance on the other at once, though its check was cached there', async () => {
    const user = await a.signUp();
    const created = await a.request('POST', '/auth/me/keys', { token: user.accessToken, body: { name: 'k' } });
    const { id, key } = created.body as { id: string; key: string };
    expect((await a.request('GET', '/auth/me', { token: key })).status).toBe(200);
    const socket = await connect(a.url, key);
    try {
      const delivered = new Promise<AccountEvent>((resolve) => {
        const off = a.app.get(AccountEvents).on((event) => {
          if (event.userId === user.id) {
            off();
            resolve(event);
          }
        });
      });
      const gone = socket.disconnected();
      expect((await b.request('DELETE', `/auth/me/keys/${id}`, { token: user.accessToken })).status).toBe(204);
      expect(await delivered).toEqual({ type: 'revoked', userId: user.id, sessionIds: [`apikey:${id}`] });
      expect((await a.request('GET', '/auth/me', { token: key })).status).toBe(401);
      await gone;
    } finally {
      socket.close();
    }
  });
});
