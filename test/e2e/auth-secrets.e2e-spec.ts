import { SessionRepository, UserRepository } from '@app/persistence';
import { randomUUID } from 'node:crypto';
import type { JsonResponse } from '../support/app-harness';
import { captureOutput } from '../support/capture-output';
import { startAuthApp, tokensOf, uniqueEmail } from './auth.fixtures';

describe('secrets', () => {
  it('should never put a password, a hash, a refresh token or the JWT secret in a response body or a log line', async () => {
    const responses: { path: string; text: string }[] = [];
    const passwords: string[] = [];
    const refreshTokens: string[] = [];
    const accessTokens: string[] = [];
    const hashes: string[] = [];
    let jwtSecret = '';

    const log = await captureOutput(async () => {
      // No reuse grace: the replay below is refused, so each refresh token is in exactly one response.
      const ctx = await startAuthApp({ LOG_LEVEL: 'debug', REFRESH_GRACE: '0' });
      jwtSecret = ctx.config.jwtSecret;
      const request = async (method: string, path: string, options: Parameters<typeof ctx.request>[2] = {}) => {
        const res: JsonResponse = await ctx.request(method, path, options);
        responses.push({ path: `${method} ${path}`, text: JSON.stringify(res.body) });
        if (res.body && typeof res.body === 'object' && 'refreshToken' in res.body) {
          refreshTokens.push(res.body.refreshToken);
          accessTokens.push(res.body.accessToken);
        }
        return res;
      };
      try {
        const password = () => {
          const p = `Secret-${randomUUID()}`;
          passwords.push(p);
          return p;
        };
        const signUp = async () => {
          const body = { email: uniqueEmail('secret'), password: password(), name: 'Secret Keeper' };
          const res = await request('POST', '/auth/signup', { body });
          return { ...body, id: res.body.user.id as string, ...tokensOf(res) };
        };
        const admin = await signUp();
        const user = await signUp();
        const headers = { 'user-agent': 'secrets-test' };

        await request('POST', '/auth/login', { body: { email: user.email, password: password() }, headers });
        await request('POST', '/auth/login', { body: { email: uniqueEmail('ghost'), password: password() } });
        await request('POST', '/auth/login', { body: { email: user.email, password: user.password }, headers });
        await request('POST', '/auth/signup', { body: { email: user.email, password: password(), name: 'Dup' } });
        await request('POST', '/auth/signup', {
          body: { email: uniqueEmail(), password: 'short', name: 'x', role: 'admin' },
        });
        await request('POST', '/auth/login', { rawBody: `{"email":"${user.email}","password":"${password()}"` });
        const rotated = await request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
        await request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
        await request('POST', '/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
        const fresh = tokensOf(
          await request('POST', '/auth/login', { body: { email: user.email, password: user.password } }),
        );
        await request('GET', '/auth/me', { token: fresh.accessToken });
        await request('PATCH', '/auth/me', { token: fresh.accessToken, body: { name: 'Renamed' } });
        await request('GET', '/auth/me/export', { token: fresh.accessToken });
        await request('POST', '/auth/password', {
          token: fresh.accessToken,
          body: { currentPassword: password(), newPassword: password() },
        });
        const newPassword = password();
        await request('POST', '/auth/password', {
          token: fresh.accessToken,
          body: { currentPassword: user.password, newPassword },
        });
        await request('GET', '/admin/users', { token: fresh.accessToken });
        await request('GET', '/admin/users', { token: admin.accessToken });
        await request('GET', '/admin/audit?limit=100', { token: admin.accessToken });
        await request('GET', '/admin/stats', { token: admin.accessToken });
        await request('PATCH', `/admin/users/${user.id}`, { token: admin.accessToken, body: { disabled: true } });
        await request('GET', '/auth/me', { token: fresh.accessToken });
        await request('POST', '/auth/login', { body: { email: user.email, password: newPassword } });
        await request('GET', '/auth/me', { token: 'forged.token.value' });
        await request('POST', '/auth/logout', { body: { refreshToken: admin.refreshToken } });
        await request('DELETE', `/admin/users/${user.id}`, { token: admin.accessToken });

        const stored = await ctx.app.get(UserRepository).findById(admin.id);
        hashes.push(stored!.passwordHash);
        expect(await ctx.app.get(SessionRepository).findByTokenHash(admin.refreshToken)).toBeNull();
      } finally {
        await ctx.close();
      }
    });

    // The capture saw the server's log (pino's request lines at debug level), so its silence below means something.
    expect(log).toMatch(/"msg":"request completed"/);
    expect(log).toContain('/api/auth/login');

    const bodies = responses.map((r) => r.text);
    const everything = [log, ...bodies];
    expect(passwords.length).toBeGreaterThan(8);
    for (const secret of [...passwords, ...hashes, jwtSecret]) {
      for (const text of everything) {
        expect(text.includes(secret) ? secret : null).toBeNull();
      }
    }
    for (const text of everything) {
      expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
      expect(text).not.toMatch(/passwordHash|password_hash|tokenHash/i);
    }
    // Tokens appear in no log line, and a refresh token only in the one response that hands it out.
    for (const token of [...refreshTokens, ...accessTokens]) {
      expect(log.includes(token) ? token : null).toBeNull();
    }
    for (const token of refreshTokens) {
      expect(bodies.filter((text) => text.includes(token))).toHaveLength(1);
    }
  }, 30_000);
});
