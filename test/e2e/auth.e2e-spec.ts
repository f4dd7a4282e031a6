import { UserRepository } from '@app/persistence';
import { startAuthApp, uniqueEmail, USER_KEYS } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

describe('sign-up and sign-in', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    ctx = await startAuthApp();
  });
  afterAll(async () => {
    await ctx.close();
  });

  describe('sign-up and sign-in', () => {
    it('should sign up, sign in with the email in another case and answer /auth/me', async () => {
      const email = uniqueEmail('Ada').replace('example.com', 'Example.COM');
      const signup = await ctx.request('POST', '/auth/signup', {
        body: { email, password: 'correct horse battery', name: '  Ada Lovelace ' },
      });
      expect(signup.status).toBe(201);
      expect(Object.keys(signup.body).sort()).toEqual(['accessToken', 'refreshToken', 'user']);
      expect(Object.keys(signup.body.user).sort()).toEqual(USER_KEYS);
      expect(signup.body.user).toMatchObject({ email, name: 'Ada Lovelace', disabled: false });
      expect(signup.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const login = await ctx.request('POST', '/auth/login', {
        body: { email: email.toUpperCase(), password: 'correct horse battery' },
      });
      expect(login.status).toBe(200);
      expect(login.body.user).toEqual(signup.body.user);

      const me = await ctx.request('GET', '/auth/me', { token: login.body.accessToken });
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        ...signup.body.user,
        usage: { today: { promptTokens: 0, completionTokens: 0 }, total: { promptTokens: 0, completionTokens: 0 } },
      });
    });

    it('should refuse a second account with the same email in any case with 409', async () => {
      const email = uniqueEmail('dup');
      await ctx.signUp({ email });
      const again = await ctx.request('POST', '/auth/signup', {
        body: { email: email.toUpperCase(), password: 'another password', name: 'Dup' },
      });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ statusCode: 409, error: 'conflict' });
    });

    it('should give a wrong password and an unknown email the same 401', async () => {
      const account = await ctx.signUp();
      const wrongPassword = await ctx.login({ email: account.email, password: 'not the password' });
      const unknownEmail = await ctx.login({ email: uniqueEmail('nobody'), password: 'not the password' });
      expect(wrongPassword.status).toBe(401);
      expect(unknownEmail.status).toBe(401);
      expect(wrongPassword.body).toEqual(unknownEmail.body);
      expect(wrongPassword.body).toEqual({
        statusCode: 401,
        error: 'unauthorized',
        message: 'Invalid email or password',
      });
    });

    it('should count every character of a password longer than bcrypt reads (72 bytes)', async () => {
      const prefix = 'p'.repeat(99);
      const account = await ctx.signUp({ password: `${prefix}A` });
      expect((await ctx.login({ email: account.email, password: `${prefix}B` })).status).toBe(401);
      expect((await ctx.login({ email: account.email, password: `${prefix}A` })).status).toBe(200);
      expect((await ctx.login({ email: account.email, password: prefix.slice(0, 72) })).status).toBe(401);
    });

    it.each([
      ['a short password', { password: 'short' }, 'password'],
      ['a password over 128 characters', { password: 'x'.repeat(129) }, 'password'],
      ['an empty name', { name: '   ' }, 'name'],
      ['a name over 100 characters', { name: 'n'.repeat(101) }, 'name'],
      ['a malformed email', { email: 'not-an-email' }, 'email'],
      ['a missing email', { email: undefined }, 'email'],
    ])('should refuse %s with validation_failed', async (_case, override, field) => {
      const body = { email: uniqueEmail(), password: 'long enough password', name: 'Valid', ...override };
      const res = await ctx.request('POST', '/auth/signup', { body });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_failed');
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
    });

    it('should accept a password of exactly 8 and of exactly 128 characters', async () => {
      await expect(ctx.signUp({ password: '12345678' })).resolves.toBeDefined();
      await expect(ctx.signUp({ password: 'y'.repeat(128) })).resolves.toBeDefined();
    });
  });

  describe('hostile bodies', () => {
    it.each([
      ['role', { role: 'admin' }],
      ['disabled', { disabled: false }],
      ['id', { id: '0123456789abcdef01234567' }],
    ])('should refuse "%s" in a sign-up body (mass assignment) and create nothing', async (field, extra) => {
      const email = uniqueEmail('mass');
      const res = await ctx.request('POST', '/auth/signup', {
        body: { email, password: 'long enough password', name: 'Mallory', ...extra },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field }] });
      expect(await ctx.app.get(UserRepository).findByEmail(email)).toBeNull();
    });

    it.each([['role'], ['disabled'], ['id'], ['email']])(
      'should refuse "%s" in a PATCH /auth/me body',
      async (field) => {
        const account = await ctx.signUp();
        const res = await ctx.request('PATCH', '/auth/me', {
          token: account.accessToken,
          body: { name: 'Renamed', [field]: field === 'disabled' ? false : 'admin' },
        });
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field }] });
        const me = await ctx.request('GET', '/auth/me', { token: account.accessToken });
        expect(me.body).toMatchObject({ name: account.name, role: 'user' });
      },
    );

    it('should refuse query operators in place of strings', async () => {
      const res = await ctx.request('POST', '/auth/login', {
        body: { email: { $gt: '' }, password: { $ne: null } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('validation_failed');
      const fields = new Set(res.body.details.map((d: { field: string }) => d.field));
      expect(fields).toEqual(new Set(['email', 'password']));
    });

    it.each([
      ['__proto__', '{"email":"a@example.com","password":"long enough","__proto__":{"role":"admin"}}'],
      ['constructor', '{"email":"a@example.com","password":"long enough","constructor":{"prototype":{"x":1}}}'],
    ])('should refuse a "%s" key instead of dropping it silently', async (field, rawBody) => {
      const res = await ctx.request('POST', '/auth/login', { rawBody });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field }] });
      expect(({} as Record<string, unknown>).role).toBeUndefined();
    });

    it('should answer malformed JSON with validation_failed', async () => {
      const res = await ctx.request('POST', '/auth/login', { rawBody: '{"email": "a@example.com",' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'validation_failed' });
    });

    it('should answer a body over 1 MB with payload_too_large', async () => {
      const res = await ctx.request('POST', '/auth/signup', {
        body: { email: uniqueEmail(), password: 'x'.repeat(1_100_000), name: 'Big' },
      });
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, error: 'payload_too_large' });
    });
  });
});

describe('the first account', () => {
  it('should be the only admin when ten sign up at once', async () => {
    const ctx = await startAuthApp();
    try {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          ctx.request('POST', '/auth/signup', {
            body: { email: uniqueEmail(`racer${i}`), password: 'long enough password', name: `Racer ${i}` },
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
      const admins = results.filter((r) => r.body.user.role === 'admin');
      expect(admins).toHaveLength(1);
      expect(await ctx.app.get(UserRepository).countAdmins()).toBe(1);
      const later = await ctx.signUp();
      expect(later.role).toBe('user');
    } finally {
      await ctx.close();
    }
  });
});
