import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { startAuthApp, tokensOf, unsignedJwt } from './auth.fixtures';

type Ctx = Awaited<ReturnType<typeof startAuthApp>>;

describe('sessions and tokens', () => {
  let ctx: Ctx;

  beforeAll(async () => {
    ctx = await startAuthApp();
  });
  afterAll(async () => {
    await ctx.close();
  });

  describe('refresh tokens', () => {
    it('should rotate: the new pair works and the old refresh token stops working', async () => {
      const account = await ctx.signUp();
      const first = await ctx.request('POST', '/auth/refresh', { body: { refreshToken: account.refreshToken } });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(account.refreshToken);
      expect(first.body.user.id).toBe(account.id);
      expect((await ctx.request('GET', '/auth/me', { token: first.body.accessToken })).status).toBe(200);

      const second = await ctx.request('POST', '/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
      expect(second.status).toBe(200);
      expect((await ctx.request('GET', '/auth/me', { token: second.body.accessToken })).status).toBe(200);
    });

    it('should refuse unknown refresh tokens', async () => {
      const res = await ctx.request('POST', '/auth/refresh', { body: { refreshToken: randomUUID() } });
      expect(res).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    });

    it('should end the session on logout (204): its refresh and access tokens stop working', async () => {
      const account = await ctx.signUp();
      const other = tokensOf(await ctx.login(account));
      expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(200);
      const logout = await ctx.request('POST', '/auth/logout', { body: { refreshToken: account.refreshToken } });
      expect(logout.status).toBe(204);
      expect(logout.body).toBeNull();
      expect(
        (await ctx.request('POST', '/auth/refresh', { body: { refreshToken: account.refreshToken } })).status,
      ).toBe(401);
      expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(401);
      expect((await ctx.request('GET', '/auth/me', { token: other.accessToken })).status).toBe(200);
      // Signing out twice, or with a token nobody knows, is not an error.
      expect((await ctx.request('POST', '/auth/logout', { body: { refreshToken: account.refreshToken } })).status).toBe(
        204,
      );
    });
  });

  describe('password change', () => {
    it('should end every other session of the user but keep the current one', async () => {
      const account = await ctx.signUp();
      const other = tokensOf(await ctx.login(account));
      expect((await ctx.request('GET', '/auth/me', { token: other.accessToken })).status).toBe(200);

      const change = await ctx.request('POST', '/auth/password', {
        token: account.accessToken,
        body: { currentPassword: account.password, newPassword: 'a brand new password' },
      });
      expect(change.status).toBe(204);

      expect((await ctx.request('GET', '/auth/me', { token: other.accessToken })).status).toBe(401);
      expect((await ctx.request('POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } })).status).toBe(
        401,
      );
      expect((await ctx.request('GET', '/auth/me', { token: account.accessToken })).status).toBe(200);
      expect(
        (await ctx.request('POST', '/auth/refresh', { body: { refreshToken: account.refreshToken } })).status,
      ).toBe(200);
      expect((await ctx.login(account)).status).toBe(401);
      expect((await ctx.login({ email: account.email, password: 'a brand new password' })).status).toBe(200);
    });

    it('should refuse a wrong current password and keep the old one', async () => {
      const account = await ctx.signUp();
      const res = await ctx.request('POST', '/auth/password', {
        token: account.accessToken,
        body: { currentPassword: 'not my password', newPassword: 'a brand new password' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'currentPassword' }] });
      expect((await ctx.login(account)).status).toBe(200);
    });
  });

  describe('access tokens', () => {
    let account: Awaited<ReturnType<Ctx['signUp']>>;
    let claims: { sub: string; sid: string };
    const now = () => Math.floor(Date.now() / 1000);
    const sign = (payload: object, secret = ctx.config.jwtSecret) =>
      new JwtService({ secret }).sign({ iat: now(), exp: now() + 600, ...payload });
    const me = (token: string) => ctx.request('GET', '/auth/me', { token });

    beforeAll(async () => {
      account = await ctx.signUp();
      claims = new JwtService().decode(account.accessToken);
    });

    it('should accept a token signed with the server secret (the control for the cases below)', async () => {
      expect((await me(sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }))).status).toBe(200);
    });

    it.each([
      ['signed with another secret', () => sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }, 'x'.repeat(48))],
      [
        'with alg "none"',
        () =>
          unsignedJwt(
            { alg: 'none', typ: 'JWT' },
            { sub: claims.sub, sid: claims.sid, typ: 'access', iat: now(), exp: now() + 600 },
          ),
      ],
      ['expired', () => sign({ sub: claims.sub, sid: claims.sid, typ: 'access', iat: now() - 3600, exp: now() - 60 })],
      [
        'without an expiry',
        () =>
          new JwtService({ secret: ctx.config.jwtSecret }).sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }),
      ],
      ['of another type', () => sign({ sub: claims.sub, sid: claims.sid, typ: 'refresh' })],
      [
        'naming a session of another user',
        () => sign({ sub: '0123456789abcdef01234567', sid: claims.sid, typ: 'access' }),
      ],
      ['naming an unknown session', () => sign({ sub: claims.sub, sid: '0123456789abcdef01234567', typ: 'access' })],
      ['that is a refresh token', () => account.refreshToken],
      ['that is garbage', () => 'not.a.jwt'],
    ])('should refuse a token %s with 401', async (_case, makeToken) => {
      const res = await me(makeToken());
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'unauthorized' });
    });

    it('should refuse a request without a bearer token', async () => {
      expect((await ctx.request('GET', '/auth/me')).status).toBe(401);
      const basic = await ctx.request('GET', '/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(basic.status).toBe(401);
    });

    it('should keep health public', async () => {
      expect((await ctx.request('GET', '/health')).status).toBe(200);
      expect((await fetch(`${ctx.url}/metrics`)).status).toBe(200);
    });
  });
});
