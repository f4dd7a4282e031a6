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

  beforeAll(async () => {
    ctx = await startAuthApp({ LOGIN_RATE_LIMIT: '3/15m', TRUST_PROXY: '0' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('should refuse further attempts on an account after LOGIN_RATE_LIMIT failures, even the right password', async () => {
    const victim = await ctx.signUp();
    for (let i = 0; i < 3; i++) {
      const res = await ctx.login(
        { email: victim.email, password: `guess ${i}` },
        { 'x-forwarded-for': randomAddress() },
      );
      expect(res.status).toBe(401);
    }
    const blocked = await ctx.login({ email: victim.email.toUpperCase(), password: 'guess 4' });
    expectRateLimited(blocked, 900);
    expectRateLimited(await ctx.login(victim), 900);
    // Other accounts are not locked out by the attack on this one.
    const bystander = await ctx.signUp();
    expect((await ctx.login(bystander)).status).toBe(200);
  });

  it('should count only failures: successful sign-ins never add up', async () => {
    const account = await ctx.signUp();
    for (let i = 0; i < 6; i++) {
      expect((await ctx.login(account)).status).toBe(200);
    }
  });

  it('should count parallel guesses before checking them, so a burst cannot slip past the limit', async () => {
    const victim = await ctx.signUp();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => ctx.login({ email: victim.email, password: `burst ${i}` })),
    );
    expect(results.filter((r) => r.status === 401)).toHaveLength(3);
    expect(results.filter((r) => r.status === 429)).toHaveLength(9);
  });

  it('should count password confirmations against the same limit', async () => {
    const account = await ctx.signUp();
    for (let i = 0; i < 3; i++) {
      const res = await ctx.request('POST', '/auth/password', {
        token: account.accessToken,
        body: { currentPassword: `guess ${i}`, newPassword: 'whatever password' },
      });
      expect(res.status).toBe(400);
    }
    const blocked = await ctx.request('DELETE', '/auth/me', {
      token: account.accessToken,
      body: { password: account.password },
    });
    expectRateLimited(blocked, 900);
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
