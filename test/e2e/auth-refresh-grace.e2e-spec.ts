import { tempDir } from '../support/server-process';
import { startAuthApp } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

const refresh = (ctx: Ctx, refreshToken: string) => ctx.request('POST', '/auth/refresh', { body: { refreshToken } });
const me = (ctx: Ctx, token: string) => ctx.request('GET', '/auth/me', { token });

describe('refresh-token reuse grace', () => {
  describe('within the default grace (10 s)', () => {
    let ctx: Ctx;

    beforeAll(async () => {
      ctx = await startAuthApp();
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('should answer three parallel refreshes with one token alike and keep the session (two tabs)', async () => {
      const account = await ctx.signUp();
      const results = await Promise.all([1, 2, 3].map(() => refresh(ctx, account.refreshToken)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      // One rotation happened: every caller holds the same new refresh token, each with a working access token.
      const handedOut = new Set(results.map((r) => r.body.refreshToken as string));
      expect(handedOut.size).toBe(1);
      expect(handedOut.has(account.refreshToken)).toBe(false);
      for (const res of results) {
        expect(res.body.user.id).toBe(account.id);
        expect((await me(ctx, res.body.accessToken as string)).status).toBe(200);
      }
      // The session lives on: its first access token still works and the shared token rotates normally.
      expect((await me(ctx, account.accessToken)).status).toBe(200);
      const [live] = handedOut;
      const next = await refresh(ctx, live);
      expect(next.status).toBe(200);
      expect((await me(ctx, next.body.accessToken as string)).status).toBe(200);
    });

    it('should hand a tab that is two rotations behind the family the live refresh token', async () => {
      const account = await ctx.signUp();
      const first = await refresh(ctx, account.refreshToken);
      const second = await refresh(ctx, first.body.refreshToken as string);
      expect([first.status, second.status]).toEqual([200, 200]);
      const behind = await refresh(ctx, account.refreshToken);
      expect(behind.status).toBe(200);
      expect(behind.body.refreshToken).toBe(second.body.refreshToken);
      expect((await refresh(ctx, behind.body.refreshToken as string)).status).toBe(200);
    });
  });

  describe('after the grace (REFRESH_GRACE=1s)', () => {
    let ctx: Ctx;

    beforeAll(async () => {
      ctx = await startAuthApp({ REFRESH_GRACE: '1s' });
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('should still revoke the whole family when a spent token comes back later', async () => {
      const account = await ctx.signUp();
      const otherSession = await ctx.login(account);
      const rotated = await refresh(ctx, account.refreshToken);
      expect(rotated.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const replay = await refresh(ctx, account.refreshToken);
      expect(replay).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
      expect((await refresh(ctx, rotated.body.refreshToken as string)).status).toBe(401);
      expect((await me(ctx, rotated.body.accessToken as string)).status).toBe(401);
      // Only that family ends: the user's other sessions are untouched.
      expect((await me(ctx, otherSession.body.accessToken as string)).status).toBe(200);
    });
  });

  describe('across two instances sharing the database', () => {
    let a: Ctx;
    let b: Ctx;

    beforeAll(async () => {
      const env = { DATA_DIR: tempDir() };
      a = await startAuthApp(env);
      b = await startAuthApp(env);
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('should give parallel refreshes on both instances one new refresh token and keep the session', async () => {
      const account = await a.signUp();
      const results = await Promise.all([a, b, a, b].map((ctx) => refresh(ctx, account.refreshToken)));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(new Set(results.map((r) => r.body.refreshToken as string)).size).toBe(1);
      expect((await me(b, results[0].body.accessToken as string)).status).toBe(200);
      expect((await refresh(b, results[1].body.refreshToken as string)).status).toBe(200);
    });
  });
});
