import { UsageRepository } from '@app/persistence';
import { startAuthApp } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

const DAY = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('account activity: usage history and sessions', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    ctx = await startAuthApp({ USER_DAILY_TOKEN_LIMIT: '1000' });
  });
  afterAll(async () => {
    await ctx.close();
  });

  describe('usage', () => {
    it('should give today, total, the daily limit with what is left, and 30 days oldest first', async () => {
      const account = await ctx.signUp();
      const usage = ctx.app.get(UsageRepository);
      const now = Date.now();
      await usage.add(account.id, { promptTokens: 100, completionTokens: 50 }, new Date(now));
      await usage.add(account.id, { promptTokens: 20, completionTokens: 10 }, new Date(now - 3 * DAY));
      await usage.add(account.id, { promptTokens: 999, completionTokens: 1 }, new Date(now - 40 * DAY));
      const res = await ctx.request('GET', '/auth/me/usage', { token: account.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        today: { promptTokens: 100, completionTokens: 50 },
        total: { promptTokens: 1119, completionTokens: 61 },
        dailyLimit: 1000,
        remainingToday: 850,
      });
      const days = res.body.days as { date: string; promptTokens: number; completionTokens: number }[];
      expect(days).toHaveLength(30);
      expect(days[29]).toEqual({ date: dayOf(now), promptTokens: 100, completionTokens: 50 });
      expect(days[26]).toEqual({ date: dayOf(now - 3 * DAY), promptTokens: 20, completionTokens: 10 });
      expect(days[0].date).toBe(dayOf(now - 29 * DAY));
      expect(days.reduce((sum, d) => sum + d.promptTokens + d.completionTokens, 0)).toBe(180);
    });
  });

  describe('sessions', () => {
    it('should list the caller\u2019s live sessions with the current one marked, and nobody else\u2019s', async () => {
      const account = await ctx.signUp();
      await ctx.login(account, { 'user-agent': 'Laptop Browser/1.0' });
      await ctx.signUp(); // a stranger's sessions never show
      const res = await ctx.request('GET', '/auth/me/sessions', { token: account.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(2);
      const current = res.body.items.filter((s: { current: boolean }) => s.current);
      expect(current).toHaveLength(1);
      expect(res.body.items.map((s: { userAgent: string | null }) => s.userAgent)).toContain('Laptop Browser/1.0');
      expect(Object.keys(res.body.items[0]).sort()).toEqual(
        ['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent'].sort(),
      );
      expect(JSON.stringify(res.body)).not.toMatch(/token|hash/i);
    });

    it('should sign out one session: its tokens stop at once, the others go on', async () => {
      const account = await ctx.signUp();
      const other = (await ctx.login(account)).body as { accessToken: string; refreshToken: string };
      const list = await ctx.request('GET', '/auth/me/sessions', { token: account.accessToken });
      const target = list.body.items.find((s: { current: boolean }) => !s.current);
      const res = await ctx.request('DELETE', `/auth/me/sessions/${target.id}`, { token: account.accessToken });
      expect(res.status).toBe(204);
      expect((await ctx.request('GET', '/auth/me', { token: other.accessToken })).status).toBe(401);
      const refresh = await ctx.request('POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } });
      expect(refresh.status).toBe(401);
      expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(200);
      // Already signed out: not found, like an unknown id.
      const again = await ctx.request('DELETE', `/auth/me/sessions/${target.id}`, { token: account.accessToken });
      expect(again.status).toBe(404);
    });

    it('should answer not found for another user\u2019s session and leave it alone', async () => {
      const owner = await ctx.signUp();
      const intruder = await ctx.signUp();
      const [session] = (await ctx.request('GET', '/auth/me/sessions', { token: owner.accessToken })).body.items;
      const res = await ctx.request('DELETE', `/auth/me/sessions/${session.id}`, { token: intruder.accessToken });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ statusCode: 404, error: 'not_found', message: expect.any(String) });
      expect((await ctx.request('GET', '/auth/me', { token: owner.accessToken })).status).toBe(200);
      const bogus = await ctx.request('DELETE', '/auth/me/sessions/not-an-id', { token: intruder.accessToken });
      expect(bogus.status).toBe(404);
    });

    it('should sign out everywhere else and keep this session', async () => {
      const account = await ctx.signUp();
      const a = (await ctx.login(account)).body as { accessToken: string };
      const b = (await ctx.login(account)).body as { accessToken: string };
      const res = await ctx.request('POST', '/auth/me/sessions/revoke-others', { token: account.accessToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ revoked: 2 });
      expect((await ctx.request('GET', '/auth/me', { token: a.accessToken })).status).toBe(401);
      expect((await ctx.request('GET', '/auth/me', { token: b.accessToken })).status).toBe(401);
      const list = await ctx.request('GET', '/auth/me/sessions', { token: account.accessToken });
      expect(list.body.items.map((s: { current: boolean }) => s.current)).toEqual([true]);
      const none = await ctx.request('POST', '/auth/me/sessions/revoke-others', { token: account.accessToken });
      expect(none.body).toEqual({ revoked: 0 });
    });
  });
});
