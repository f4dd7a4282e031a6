import { randomInt } from 'node:crypto';
import { startAuthApp, uniqueEmail } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

const randomAddress = () => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

function expectRateLimited(res: { status: number; headers: Headers; body: { error?: string } }, windowSeconds: number) {
  expect(res.status).toBe(429);
  expect(res.body.error).toBe('rate_limited');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
}

describe('sign-in throttling per account', () => {
  let ctx: Ctx;
  const from = (address: string) => ({ 'x-forwarded-for': address });
  const timed = async <T>(run: () => Promise<T>) => {
    const started = performance.now();
    const result = await run();
    return { result, ms: performance.now() - started };
  };

  beforeAll(async () => {
    // Behind one trusted proxy, so that each test client has an address of its own.
    ctx = await startAuthApp({ LOGIN_RATE_LIMIT: '10/15m', LOGIN_MAX_DELAY: '3s', TRUST_PROXY: '1' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('should let the owner in after ten wrong logins against their email, after at most LOGIN_MAX_DELAY', async () => {
    const victim = await ctx.signUp();
    const attacker = randomAddress();
    for (let i = 0; i < 10; i++) {
      expect((await ctx.login({ email: victim.email, password: `guess ${i}` }, from(attacker))).status).toBe(401);
    }
    // The attack goes on from other addresses while the owner signs in: everyone on the account is slowed down...
    const more = Array.from({ length: 4 }, (_, i) =>
      ctx.login({ email: victim.email, password: `more ${i}` }, from(randomAddress())),
    );
    const owner = await timed(() => ctx.login(victim, from(randomAddress())));
    expect(owner.result.status).toBe(200);
    // ...by at least the first step (timers never fire early) and at most the cap, with room for a loaded machine.
    expect(owner.ms).toBeGreaterThanOrEqual(990);
    expect(owner.ms).toBeLessThan(3000 + 5000);
    expect((await Promise.all(more)).map((r) => r.status)).toEqual([401, 401, 401, 401]);
  }, 30_000);

  it("should refuse the attacker's address on that account only, with 429 and Retry-After", async () => {
    const victim = await ctx.signUp();
    const bystander = await ctx.signUp();
    const attacker = randomAddress();
    for (let i = 0; i < 10; i++) {
      expect((await ctx.login({ email: victim.email, password: `guess ${i}` }, from(attacker))).status).toBe(401);
    }
    expectRateLimited(await ctx.login({ email: victim.email.toUpperCase(), password: 'guess' }, from(attacker)), 900);
    expectRateLimited(await ctx.login(victim, from(attacker)), 900);
    // The same address may still sign in to other accounts (until the per-address limit).
    expect((await ctx.login(bystander, from(attacker))).status).toBe(200);
  }, 30_000);

  it("should keep the owner's signed-in session able to change the password and delete the account", async () => {
    const victim = await ctx.signUp();
    for (let i = 0; i < 12; i++) {
      await ctx.login({ email: victim.email, password: `guess ${i}` }, from(randomAddress()));
    }
    const change = await ctx.request('POST', '/auth/password', {
      token: victim.accessToken,
      body: { currentPassword: victim.password, newPassword: 'a brand new password' },
    });
    expect(change.status).toBe(204);
    const remove = await ctx.request('DELETE', '/auth/me', {
      token: victim.accessToken,
      body: { password: 'a brand new password' },
    });
    expect(remove.status).toBe(204);
  }, 60_000);

  it('should count only failures: successful sign-ins never add up', async () => {
    const account = await ctx.signUp();
    const address = randomAddress();
    for (let i = 0; i < 14; i++) {
      const { result, ms } = await timed(() => ctx.login(account, from(address)));
      expect(result.status).toBe(200);
      expect(ms).toBeLessThan(990);
    }
  });

  it('should count parallel guesses from one address before checking them, so a burst cannot slip past', async () => {
    const victim = await ctx.signUp();
    const address = randomAddress();
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) => ctx.login({ email: victim.email, password: `burst ${i}` }, from(address))),
    );
    expect(results.filter((r) => r.status === 401)).toHaveLength(10);
    expect(results.filter((r) => r.status === 429)).toHaveLength(4);
  });

  it('should count password confirmations per session, apart from sign-ins', async () => {
    const account = await ctx.signUp();
    const other = await ctx.login(account, from(randomAddress()));
    for (let i = 0; i < 10; i++) {
      const res = await ctx.request('POST', '/auth/password', {
        token: account.accessToken,
        body: { currentPassword: `guess ${i}`, newPassword: 'whatever password' },
      });
      expect(res.status).toBe(400);
    }
    // That session is refused further confirmations, even the right one...
    expectRateLimited(
      await ctx.request('DELETE', '/auth/me', { token: account.accessToken, body: { password: account.password } }),
      900,
    );
    // ...while signing in is not slowed down and another session still confirms.
    const login = await timed(() => ctx.login(account, from(randomAddress())));
    expect(login.result.status).toBe(200);
    expect(login.ms).toBeLessThan(990);
    const change = await ctx.request('POST', '/auth/password', {
      token: other.body.accessToken as string,
      body: { currentPassword: account.password, newPassword: 'another new password' },
    });
    expect(change.status).toBe(204);
  });
});

describe('sign-in throttling per client address', () => {
  it('should refuse an address after ten times LOGIN_RATE_LIMIT failures, whatever X-Forwarded-For says (TRUST_PROXY=0)', async () => {
    const ctx = await startAuthApp({ LOGIN_RATE_LIMIT: '2/15m', TRUST_PROXY: '0' });
    try {
      const account = await ctx.signUp();
      for (let i = 0; i < 20; i++) {
        const res = await ctx.login(
          { email: uniqueEmail('spray'), password: 'Password1!' },
          { 'x-forwarded-for': randomAddress() },
        );
        expect(res.status).toBe(401);
      }
      const spray = await ctx.login(
        { email: uniqueEmail('spray'), password: 'Password1!' },
        { 'x-forwarded-for': randomAddress() },
      );
      expectRateLimited(spray, 900);
      expectRateLimited(await ctx.login(account, { 'x-forwarded-for': randomAddress() }), 900);
    } finally {
      await ctx.close();
    }
  });

  it('should take the address from X-Forwarded-For only behind a trusted proxy (TRUST_PROXY=1)', async () => {
    const ctx = await startAuthApp({ LOGIN_RATE_LIMIT: '2/15m', TRUST_PROXY: '1' });
    try {
      // Each forwarded address is its own client: 25 failures from 25 addresses trip no address limit...
      for (let i = 0; i < 25; i++) {
        const res = await ctx.login(
          { email: uniqueEmail('proxied'), password: 'Password1!' },
          { 'x-forwarded-for': randomAddress() },
        );
        expect(res.status).toBe(401);
      }
      // ...while one forwarded address is limited like any other.
      const address = randomAddress();
      const statuses = [];
      for (let i = 0; i < 21; i++) {
        const res = await ctx.login(
          { email: uniqueEmail('proxied'), password: 'Password1!' },
          { 'x-forwarded-for': address },
        );
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 20)).toEqual(Array(20).fill(401));
      expect(statuses[20]).toBe(429);
    } finally {
      await ctx.close();
    }
  });
});

describe('sign-up throttling', () => {
  it('should refuse more than SIGNUP_RATE_LIMIT sign-ups per address with 429 and Retry-After', async () => {
    const ctx = await startAuthApp({ SIGNUP_RATE_LIMIT: '3/h' });
    try {
      for (let i = 0; i < 3; i++) {
        await ctx.signUp({}, { 'x-forwarded-for': randomAddress() });
      }
      const res = await ctx.request('POST', '/auth/signup', {
        body: { email: uniqueEmail(), password: 'long enough password', name: 'Fourth' },
        headers: { 'x-forwarded-for': randomAddress() },
      });
      expectRateLimited(res, 3600);
    } finally {
      await ctx.close();
    }
  });
});

describe('password hashing off the event loop', () => {
  it('should keep answering /api/health promptly while sign-ins hash at a high bcrypt cost', async () => {
    const ctx = await startAuthApp({ BCRYPT_COST: '12' });
    try {
      const account = await ctx.signUp();
      const health = async () => {
        const started = performance.now();
        const res = await fetch(`${ctx.url}/api/health`);
        await res.text();
        return performance.now() - started;
      };
      await health();

      const started = performance.now();
      let done = false;
      const logins = Promise.all(Array.from({ length: 4 }, () => ctx.login(account))).finally(() => {
        done = true;
      });
      const latencies: number[] = [];
      while (!done) {
        latencies.push(await health());
      }
      const results = await logins;
      const loginMs = performance.now() - started;

      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(latencies.length).toBeGreaterThanOrEqual(5);
      // A synchronous hash would hold the event loop for a whole hash (hundreds of ms at cost 12).
      expect(Math.max(...latencies)).toBeLessThan(loginMs / 3);
    } finally {
      await ctx.close();
    }
  }, 30_000);

  it('should take about as long to refuse an unknown email as a wrong password', async () => {
    const ctx = await startAuthApp({ BCRYPT_COST: '10' });
    try {
      const account = await ctx.signUp();
      const timed = async (email: string) => {
        const started = performance.now();
        const res = await ctx.login({ email, password: 'not the password' });
        expect(res.status).toBe(401);
        return performance.now() - started;
      };
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 6; i++) {
        known.push(await timed(account.email));
        unknown.push(await timed(uniqueEmail('nobody')));
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
      // Without the dummy comparison an unknown email would answer in a few ms against tens for a wrong password.
      const ratio = median(unknown) / median(known);
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    } finally {
      await ctx.close();
    }
  }, 30_000);
});
