import { captureOutput } from '../support/capture-output';
import { refusal } from '../support/socket-client';
import { startAuthApp } from './auth.fixtures';

// Its own file: the log capture must see the first server of the process (pino's destination is made once).
describe('personal API keys in logs', () => {
  it('should never write a key to a log line, nor show it in a response after creation', async () => {
    const keys: string[] = [];
    const bodies: string[] = [];
    const log = await captureOutput(async () => {
      const ctx = await startAuthApp({ LOG_LEVEL: 'debug' });
      try {
        const user = await ctx.signUp();
        const created = await ctx.request('POST', '/auth/me/keys', { token: user.accessToken, body: { name: 'a' } });
        keys.push(created.body.key);
        const key = created.body.key as string;
        for (const [method, path] of [
          ['GET', '/auth/me'],
          ['GET', '/threads'],
          ['GET', '/auth/me/keys'],
          ['GET', '/admin/users'],
          ['GET', `/threads/${'0'.repeat(24)}`],
        ]) {
          bodies.push(JSON.stringify((await ctx.request(method, path, { token: key })).body));
        }
        bodies.push(JSON.stringify((await ctx.request('GET', '/auth/me/keys', { token: user.accessToken })).body));
        // A client that puts the key in another header: not accepted there, and not logged either.
        await ctx.request('GET', '/models', { headers: { 'x-api-key': key } });
        const v1 = await fetch(`${ctx.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
        bodies.push(await v1.text());
        bodies.push(JSON.stringify((await ctx.request('GET', '/auth/me/export', { token: user.accessToken })).body));
        await ctx.request('DELETE', `/auth/me/keys/${created.body.id}`, { token: user.accessToken });
        bodies.push(JSON.stringify((await ctx.request('GET', '/auth/me', { token: key })).body));
        const socket = await refusal(ctx.url, { token: key });
        expect(socket).toBe('unauthorized');
      } finally {
        await ctx.close();
      }
    });
    expect(log).toMatch(/"msg":"request completed"/);
    expect(log).toContain('/api/auth/me/keys');
    expect(log).toContain('/v1/models');
    expect(log).toContain('[redacted]');
    const secret = keys[0].slice(12);
    expect(log.includes(secret)).toBe(false);
    expect(bodies.filter((body) => body.includes(secret))).toEqual([]);
  }, 30_000);
});
