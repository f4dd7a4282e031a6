import { MessageRepository, ownerScope, ThreadRepository, UsageRepository } from '@app/persistence';
import { type TestAccount, startAuthApp, tokensOf } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

const UNKNOWN_ID = '0123456789abcdef01234567';

describe('admin API', () => {
  let ctx: Ctx;
  let admin: TestAccount;

  beforeAll(async () => {
    // No reuse grace: the audit test replays a spent refresh token at once.
    ctx = await startAuthApp({ REFRESH_GRACE: '0' });
    admin = await ctx.signUp({ name: 'Root' });
    expect(admin.role).toBe('admin');
  });
  afterAll(async () => {
    await ctx.close();
  });

  const as = (account: { accessToken: string }) => ({
    get: (path: string) => ctx.request('GET', path, { token: account.accessToken }),
    patch: (path: string, body: unknown) => ctx.request('PATCH', path, { token: account.accessToken, body }),
    delete: (path: string) => ctx.request('DELETE', path, { token: account.accessToken }),
  });

  describe('users', () => {
    it('should list users newest first with their thread count and usage, filtered and paged', async () => {
      const tag = `list-${Date.now()}`;
      const older = await ctx.signUp({ email: `${tag}-older@example.com`, name: 'Older' });
      const newer = await ctx.signUp({ email: `${tag}-newer@example.com`, name: 'Newer' });
      await ctx.app.get(ThreadRepository).create(ownerScope(newer.id), { title: 't', model: 'demo', systemPrompt: '' });
      await ctx.app.get(UsageRepository).add(newer.id, { promptTokens: 7, completionTokens: 3 }, new Date());

      const first = await as(admin).get(`/admin/users?q=${tag.toUpperCase()}&limit=1`);
      expect(first.status).toBe(200);
      expect(first.body.items).toEqual([
        {
          id: newer.id,
          email: newer.email,
          name: 'Newer',
          role: 'user',
          disabled: false,
          createdAt: expect.any(String),
          threadCount: 1,
          apiKeyCount: 0,
          usage: { promptTokens: 7, completionTokens: 3 },
          usageToday: { promptTokens: 7, completionTokens: 3 },
          lastActiveAt: expect.any(String),
        },
      ]);
      // Signing up started a session: that is the last activity.
      expect(Date.now() - new Date(first.body.items[0].lastActiveAt).getTime()).toBeLessThan(60_000);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const second = await as(admin).get(`/admin/users?q=${tag}&limit=1&cursor=${first.body.nextCursor}`);
      expect(second.body.items.map((u: { id: string }) => u.id)).toEqual([older.id]);
      expect(second.body.nextCursor).toBeNull();
      expect(JSON.stringify([first.body, second.body])).not.toMatch(/passwordHash|\$2[aby]\$/);
    });

    it.each([['limit=0'], ['limit=101'], ['limit=abc'], ['cursor=bogus'], ['q[$ne]=x'], ['extra=1']])(
      'should refuse the query %s with validation_failed',
      async (query) => {
        const res = await as(admin).get(`/admin/users?${query}`);
        expect(res.status).toBe(400);
        expect(res.body.error).toBe('validation_failed');
      },
    );

    it('should disable a user: their still-valid access token is refused on the very next request', async () => {
      const user = await ctx.signUp();
      const other = tokensOf(await ctx.login(user));
      // Warm the session check's cache, so the refusal below cannot come from a cold lookup.
      expect((await as(user).get('/auth/me')).status).toBe(200);
      expect((await as(other).get('/auth/me')).status).toBe(200);

      const res = await as(admin).patch(`/admin/users/${user.id}`, { disabled: true });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, disabled: true, role: 'user' });

      expect((await as(user).get('/auth/me')).status).toBe(401);
      expect((await as(other).get('/auth/me')).status).toBe(401);
      expect((await ctx.request('POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(
        401,
      );
      const login = await ctx.login(user);
      expect(login.status).toBe(403);
      expect(login.body).toMatchObject({ statusCode: 403, error: 'account_disabled' });
      // A wrong password does not reveal that the account is disabled.
      expect((await ctx.login({ email: user.email, password: 'wrong password' })).status).toBe(401);

      expect((await as(admin).patch(`/admin/users/${user.id}`, { disabled: false })).body.disabled).toBe(false);
      expect((await ctx.login(user)).status).toBe(200);
    });

    it('should promote and demote a user, effective on the next request', async () => {
      const user = await ctx.signUp();
      expect((await as(user).get('/admin/stats')).status).toBe(403);
      expect((await as(admin).patch(`/admin/users/${user.id}`, { role: 'admin' })).body.role).toBe('admin');
      expect((await as(user).get('/admin/stats')).status).toBe(200);
      expect((await as(admin).patch(`/admin/users/${user.id}`, { role: 'user' })).body.role).toBe('user');
      expect((await as(user).get('/admin/stats')).status).toBe(403);
    });

    it.each([
      ['an unknown role', { role: 'root' }],
      ['a string for disabled', { disabled: 'true' }],
      ['an unknown field', { email: 'x@example.com' }],
      ['a password hash', { passwordHash: 'x' }],
    ])('should refuse %s in PATCH /admin/users/:id', async (_case, body) => {
      const user = await ctx.signUp();
      const res = await as(admin).patch(`/admin/users/${user.id}`, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_failed');
    });

    it('should delete a user with their threads (204); their token is refused at once', async () => {
      const user = await ctx.signUp();
      const threads = ctx.app.get(ThreadRepository);
      await threads.create(ownerScope(user.id), { title: 'gone', model: 'demo', systemPrompt: '' });
      expect((await as(user).get('/auth/me')).status).toBe(200);

      const res = await as(admin).delete(`/admin/users/${user.id}`);
      expect(res.status).toBe(204);
      expect((await as(user).get('/auth/me')).status).toBe(401);
      expect((await ctx.login(user)).status).toBe(401);
      expect(await threads.listAll(ownerScope(user.id))).toEqual([]);
      expect((await as(admin).delete(`/admin/users/${user.id}`)).status).toBe(404);
    });

    it.each([[UNKNOWN_ID], ['not-an-id']])('should answer 404 for the user id %s', async (id) => {
      expect((await as(admin).patch(`/admin/users/${id}`, { disabled: true })).body).toMatchObject({
        statusCode: 404,
        error: 'not_found',
      });
      expect((await as(admin).delete(`/admin/users/${id}`)).status).toBe(404);
    });
  });

  describe('audit log', () => {
    it('should show admin actions, sign-in failures and refresh-token reuse', async () => {
      const user = await ctx.signUp();
      await ctx.login({ email: user.email, password: 'wrong password' });
      const rotated = tokensOf(
        await ctx.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } }),
      );
      expect(rotated.refreshToken).toBeDefined();
      await ctx.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
      await as(admin).patch(`/admin/users/${user.id}`, { role: 'admin' });
      await as(admin).patch(`/admin/users/${user.id}`, { role: 'user', disabled: true });
      await as(admin).delete(`/admin/users/${user.id}`);

      const res = await as(admin).get('/admin/audit?limit=100');
      expect(res.status).toBe(200);
      const mine = (res.body.items as { targetId: string | null; action: string }[]).filter(
        (e) => e.targetId === user.id,
      );
      expect(mine.map((e) => e.action)).toEqual([
        'admin.user_deleted',
        'admin.user_updated',
        'admin.user_updated',
        'auth.refresh_reused',
        'auth.login_failed',
        'auth.signup',
      ]);
      expect(mine[1]).toMatchObject({
        actorId: admin.id,
        ip: expect.any(String),
        meta: { changes: { role: { from: 'admin', to: 'user' }, disabled: { from: false, to: true } } },
        createdAt: expect.any(String),
      });
      expect(mine[4]).toMatchObject({ actorId: null, meta: { email: user.email, reason: 'wrong_password' } });
      expect(JSON.stringify(res.body)).not.toContain('wrong password');
    });

    it('should filter by actor or target, by id or email, and name both by their email', async () => {
      const user = await ctx.signUp();
      const bystander = await ctx.signUp();
      await as(admin).patch(`/admin/users/${user.id}`, { disabled: true });
      await as(admin).patch(`/admin/users/${bystander.id}`, { disabled: true });
      const byTarget = await as(admin).get(`/admin/audit?target=${encodeURIComponent(user.email.toUpperCase())}`);
      expect(byTarget.status).toBe(200);
      expect(byTarget.body.items.map((e: { action: string }) => e.action)).toEqual([
        'admin.user_updated',
        'auth.signup',
      ]);
      expect(byTarget.body.items[0]).toMatchObject({
        actorId: admin.id,
        actorEmail: admin.email,
        targetId: user.id,
        targetEmail: user.email,
      });
      const byActor = await as(admin).get(`/admin/audit?actor=${admin.id}&limit=100`);
      const targets = (byActor.body.items as { actorId: string; targetId: string }[]).map((e) => e.targetId);
      expect(targets).toEqual(expect.arrayContaining([user.id, bystander.id]));
      expect(byActor.body.items.every((e: { actorId: string }) => e.actorId === admin.id)).toBe(true);
      const both = await as(admin).get(`/admin/audit?actor=${admin.email}&target=${bystander.id}`);
      expect(both.body.items.map((e: { targetId: string }) => e.targetId)).toEqual([bystander.id]);
      expect((await as(admin).get('/admin/audit?actor=nobody@example.com')).body).toEqual({
        items: [],
        nextCursor: null,
      });
      const bad = await as(admin).get('/admin/audit?target=not-an-id');
      expect(bad.status).toBe(400);
      expect(bad.body.details).toEqual([{ field: 'target', message: expect.stringContaining('user id or an email') }]);
      // Once the account is gone its entries stay, without an email to show.
      await as(admin).delete(`/admin/users/${user.id}`);
      const gone = await as(admin).get(`/admin/audit?target=${user.id}`);
      expect(gone.body.items[0]).toMatchObject({ action: 'admin.user_deleted', targetId: user.id, targetEmail: null });
    });

    it('should page with a cursor', async () => {
      const first = await as(admin).get('/admin/audit?limit=2');
      expect(first.body.items).toHaveLength(2);
      const second = await as(admin).get(`/admin/audit?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.status).toBe(200);
      expect(second.body.items[0].id).not.toBe(first.body.items[1].id);
      expect(new Date(second.body.items[0].createdAt).getTime()).toBeLessThanOrEqual(
        new Date(first.body.items[1].createdAt).getTime(),
      );
    });
  });

  describe('stats', () => {
    it('should count users, threads, messages and tokens, in total and over the last 24 hours', async () => {
      const before = (await as(admin).get('/admin/stats')).body;
      expect(before).toEqual({
        users: expect.any(Number),
        threads: expect.any(Number),
        messages: expect.any(Number),
        tokens: {
          total: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
          last24h: { promptTokens: expect.any(Number), completionTokens: expect.any(Number) },
        },
        last24h: { threads: expect.any(Number), messages: expect.any(Number) },
      });

      const user = await ctx.signUp();
      const scope = ownerScope(user.id);
      const thread = await ctx.app.get(ThreadRepository).create(scope, { title: 's', model: 'demo', systemPrompt: '' });
      const messages = ctx.app.get(MessageRepository);
      const q = await messages.create(scope, {
        threadId: thread.id,
        parentId: null,
        role: 'user',
        content: 'hi',
        model: 'demo',
        status: 'complete',
      });
      await messages.create(scope, {
        threadId: thread.id,
        parentId: q.message.id,
        role: 'assistant',
        content: 'hello',
        model: 'demo',
        status: 'complete',
      });
      const usage = ctx.app.get(UsageRepository);
      await usage.add(user.id, { promptTokens: 11, completionTokens: 22 }, new Date());
      await usage.add(user.id, { promptTokens: 1000, completionTokens: 2000 }, new Date(Date.now() - 3 * 86_400_000));

      const after = (await as(admin).get('/admin/stats')).body;
      expect(after.users).toBe(before.users + 1);
      expect(after.threads).toBe(before.threads + 1);
      expect(after.messages).toBe(before.messages + 2);
      expect(after.last24h).toEqual({ threads: before.last24h.threads + 1, messages: before.last24h.messages + 2 });
      expect(after.tokens.total).toEqual({
        promptTokens: before.tokens.total.promptTokens + 1011,
        completionTokens: before.tokens.total.completionTokens + 2022,
      });
      expect(after.tokens.last24h).toEqual({
        promptTokens: before.tokens.last24h.promptTokens + 11,
        completionTokens: before.tokens.last24h.completionTokens + 22,
      });
    });
  });
});
