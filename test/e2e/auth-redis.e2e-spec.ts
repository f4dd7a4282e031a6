import { type AccountEvent, AccountEvents } from '@app/auth';
import { RedisProcess, redisServerAvailable } from '../support/redis-process';
import { tempDir } from '../support/server-process';
import { startAuthApp, type TestAccount, tokensOf } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

function nextEvent(ctx: Ctx, match: (event: AccountEvent) => boolean): Promise<AccountEvent> {
  return new Promise((resolve) => {
    const off = ctx.app.get(AccountEvents).on((event) => {
      if (match(event)) {
        off();
        resolve(event);
      }
    });
  });
}

// Without redis-server on this machine the multi-instance behaviour cannot be shown; CI installs it (.ci/run).
const describeWithRedis = redisServerAvailable() || process.env.CI === 'true' ? describe : describe.skip;

describeWithRedis('two instances sharing Redis', () => {
  let redis: RedisProcess;
  let a: Ctx;
  let b: Ctx;
  let admin: TestAccount;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    // Two instances of one deployment: the same database, JWT secret and Redis.
    // No refresh reuse grace: a replay is refused at once (the grace has its own tests).
    const env = {
      DATA_DIR: tempDir(),
      REDIS_URL: redis.url,
      LOGIN_RATE_LIMIT: '3/15m',
      REFRESH_GRACE: '0',
      TRUST_PROXY: '1',
    };
    a = await startAuthApp(env);
    b = await startAuthApp(env);
    admin = await b.signUp({ name: 'Root' });
  }, 30_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.kill();
  });

  /** Disables `user` through B and shows that A, whose session check for the user is cached, refuses at once. */
  async function disableThroughB(user: TestAccount): Promise<void> {
    expect((await a.request('GET', '/auth/me', { token: user.accessToken })).status).toBe(200);
    const delivered = nextEvent(a, (e) => e.type === 'revoked' && e.userId === user.id);
    const disable = await b.request('PATCH', `/admin/users/${user.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    expect(disable.status).toBe(200);
    expect(await delivered).toEqual({ type: 'revoked', userId: user.id, sessionIds: 'all' });
    expect((await a.request('GET', '/auth/me', { token: user.accessToken })).status).toBe(401);
  }

  it("should end a disabled user's sessions on the other instance at once, though its check was cached", async () => {
    await disableThroughB(await a.signUp());
  });

  it('should end a session on the other instance when its spent refresh token is replayed there', async () => {
    const user = await a.signUp();
    const rotated = tokensOf(await a.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }));
    expect((await a.request('GET', '/auth/me', { token: rotated.accessToken })).status).toBe(200);

    const delivered = nextEvent(a, (e) => e.type === 'revoked' && e.userId === user.id);
    expect((await b.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    await delivered;
    expect((await a.request('GET', '/auth/me', { token: rotated.accessToken })).status).toBe(401);
  });

  it('should count failed sign-ins across instances: per address and account, and the slowdown per account', async () => {
    const victim = await a.signUp();
    const attacker = { 'x-forwarded-for': '198.51.100.7' };
    const guess = (ctx: Ctx, i: number) => ctx.login({ email: victim.email, password: `guess ${i}` }, attacker);
    expect((await guess(a, 1)).status).toBe(401);
    expect((await guess(b, 2)).status).toBe(401);
    expect((await guess(a, 3)).status).toBe(401);
    const blocked = await guess(b, 4);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The owner, from elsewhere and on the other instance, gets in after the account's first slowdown step.
    const started = performance.now();
    const owner = await b.login(victim, { 'x-forwarded-for': '203.0.113.9' });
    expect(owner.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('should keep signing users in while Redis is down, and share events again once it is back', async () => {
    const user = await a.signUp();
    expect((await a.request('GET', '/auth/me', { token: user.accessToken })).status).toBe(200);
    await redis.kill();
    try {
      // Limits fall back to process memory...
      expect((await a.login(user)).status).toBe(200);
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await a.login({ email: user.email, password: `guess ${i}` })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      // ...and revocations still reach this instance's own cache at once.
      const logout = await a.request('POST', '/auth/logout', { body: { refreshToken: user.refreshToken } });
      expect(logout.status).toBe(204);
      expect((await a.request('GET', '/auth/me', { token: user.accessToken })).status).toBe(401);
    } finally {
      await redis.restart();
    }

    // Reconnecting takes up to ioredis' retry delay: probe until an event published on B reaches A.
    const probe = { type: 'changed' as const, userId: `probe-${Date.now()}` };
    let received = false;
    const arrived = nextEvent(a, (e) => e.userId === probe.userId).then(() => (received = true));
    const deadline = Date.now() + 10_000;
    while (!received && Date.now() < deadline) {
      await b.app.get(AccountEvents).publish(probe);
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    expect(received).toBe(true);
    await disableThroughB(await a.signUp());
  }, 20_000);

  it('should keep an admin when two admins demote each other at once through different instances', async () => {
    const second = await a.signUp({ name: 'Second admin' });
    const promote = (target: TestAccount, by: TestAccount) =>
      b.request('PATCH', `/admin/users/${target.id}`, { token: by.accessToken, body: { role: 'admin' } });
    expect((await promote(second, admin)).status).toBe(200);
    for (let round = 0; round < 5; round++) {
      const [first, other] = await Promise.all([
        a.request('PATCH', `/admin/users/${second.id}`, { token: admin.accessToken, body: { role: 'user' } }),
        b.request('PATCH', `/admin/users/${admin.id}`, { token: second.accessToken, body: { role: 'user' } }),
      ]);
      // Exactly one demotion goes through; the other is refused (409 last admin, or 403 once its caller is demoted).
      expect([first.status, other.status].filter((status) => status === 200)).toHaveLength(1);
      expect([403, 409]).toContain(first.status === 200 ? other.status : first.status);
      const survivor = first.status === 200 ? admin : second;
      const demoted = first.status === 200 ? second : admin;
      const me = await a.request('GET', '/auth/me', { token: survivor.accessToken });
      expect(me.body.role).toBe('admin');
      expect((await promote(demoted, survivor)).status).toBe(200);
    }
  });
});
