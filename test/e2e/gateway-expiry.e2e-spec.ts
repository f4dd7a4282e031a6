import { SessionRepository } from '@app/persistence';
import { AccountEvents } from '@app/auth';
import { JwtService } from '@nestjs/jwt';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { connect, refusal, type TestSocket } from '../support/socket-client';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const expiryOf = (token: string) => (new JwtService().decode<{ exp: number }>(token).exp ?? 0) * 1000;
/** The client sees a disconnect a little after the server's timer fired: allow for clock reading, never earlier. */
const TIMER_SLACK_MS = 100;

describe('sockets re-checked', () => {
  const sockets: TestSocket[] = [];
  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });
  async function open(ctx: ChatApp, token: string): Promise<TestSocket> {
    const socket = await connect(ctx.url, token);
    sockets.push(socket);
    return socket;
  }

  describe('when the access token expires (ACCESS_TOKEN_TTL=4s)', () => {
    let ctx: ChatApp;

    beforeAll(async () => {
      ctx = await startChatApp({ ACCESS_TOKEN_TTL: '4s' });
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('should disconnect a socket at its token expiry unless it re-authenticated with auth:refresh', async () => {
      const user = await ctx.signUp();
      const thread = await ctx.request('POST', '/threads', { token: user.accessToken, body: { title: 'Expiry' } });
      const firstExpiry = expiryOf(user.accessToken);
      const [stale, renewed] = await Promise.all([open(ctx, user.accessToken), open(ctx, user.accessToken)]);
      const staleGone = stale.disconnected(15_000);

      // A token issued two seconds later expires two seconds later (JWT times are whole seconds).
      await sleep(2100);
      const refreshed = await ctx.request('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
      expect(refreshed.status).toBe(200);
      const newToken = refreshed.body.accessToken as string;
      const secondExpiry = expiryOf(newToken);
      expect(secondExpiry).toBeGreaterThan(firstExpiry);
      expect(await renewed.emitAck('auth:refresh', { token: newToken })).toEqual({
        ok: true,
        expiresAt: new Date(secondExpiry).toISOString(),
      });

      expect(await staleGone).toBe('io server disconnect');
      expect(Date.now()).toBeGreaterThanOrEqual(firstExpiry - TIMER_SLACK_MS);
      // The renewed socket outlives the first token and keeps working...
      expect(renewed.connected).toBe(true);
      expect(await renewed.emitAck('thread:join', { threadId: thread.body.id })).toMatchObject({ ok: true });
      // ...until its new token expires in turn.
      expect(await renewed.disconnected(15_000)).toBe('io server disconnect');
      expect(Date.now()).toBeGreaterThanOrEqual(secondExpiry - TIMER_SLACK_MS);
    }, 30_000);

    it('should refuse a bad or foreign token on auth:refresh with an error ack and keep the socket', async () => {
      const user = await ctx.signUp();
      const other = await ctx.signUp();
      const socket = await open(ctx, user.accessToken);
      expect(await socket.emitAck('auth:refresh', { token: 'not.a.jwt' })).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      });
      expect(await socket.emitAck('auth:refresh', { token: other.accessToken })).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect(await socket.emitAck('auth:refresh', { token: user.refreshToken })).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      });
      expect(await socket.emitAck('auth:refresh', {})).toMatchObject({
        ok: false,
        error: { code: 'validation_failed' },
      });
      expect(socket.connected).toBe(true);
      // A logged-out session's token does not renew anything either.
      const second = await ctx.login(user);
      await ctx.request('POST', '/auth/logout', { body: { refreshToken: second.body.refreshToken } });
      expect(await socket.emitAck('auth:refresh', { token: second.body.accessToken })).toMatchObject({
        ok: false,
        error: { code: 'unauthorized' },
      });
      expect(socket.connected).toBe(true);
    });

    it('should keep a socket opened with a never-expiring API key without a deadline', async () => {
      const user = await ctx.signUp();
      const created = await ctx.request('POST', '/auth/me/keys', { token: user.accessToken, body: { name: 'cli' } });
      expect(created.status).toBe(201);
      const socket = await open(ctx, created.body.key as string);
      expect(await socket.emitAck('auth:refresh', { token: created.body.key })).toEqual({ ok: true, expiresAt: null });
      expect(await socket.emitAck('auth:refresh', { token: user.accessToken })).toEqual({
        ok: true,
        expiresAt: new Date(expiryOf(user.accessToken)).toISOString(),
      });
    });

    it('should disconnect the sockets of sessions that a password change ends, and keep the current one', async () => {
      const user = await ctx.signUp();
      const second = await ctx.login(user);
      const [current, ended] = await Promise.all([open(ctx, user.accessToken), open(ctx, second.body.accessToken)]);
      const gone = ended.disconnected();
      const change = await ctx.request('POST', '/auth/password', {
        token: user.accessToken,
        body: { currentPassword: user.password, newPassword: 'a brand new password' },
      });
      expect(change.status).toBe(204);
      expect(await gone).toBe('io server disconnect');
      expect(current.connected).toBe(true);
    });
  });

  describe('when the session expires (REFRESH_TOKEN_TTL=3s, ACCESS_TOKEN_TTL=15m)', () => {
    let ctx: ChatApp;

    beforeAll(async () => {
      ctx = await startChatApp({ REFRESH_TOKEN_TTL: '3s' });
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('should disconnect a socket when its session expires, though its access token is still valid', async () => {
      const user = await ctx.signUp();
      const { sid } = new JwtService().decode<{ sid: string }>(user.accessToken);
      const session = await ctx.app.get(SessionRepository).findById(sid);
      const sessionExpiry = session!.expiresAt.getTime();
      expect(expiryOf(user.accessToken)).toBeGreaterThan(sessionExpiry + 60_000);
      const socket = await open(ctx, user.accessToken);
      expect(await socket.disconnected(15_000)).toBe('io server disconnect');
      expect(Date.now()).toBeGreaterThanOrEqual(sessionExpiry - TIMER_SLACK_MS);
      expect((await ctx.request('GET', '/auth/me', { token: user.accessToken })).status).toBe(401);
    }, 20_000);
  });

  describe('handshake checks', () => {
    let ctx: ChatApp;

    beforeAll(async () => {
      ctx = await startChatApp();
    });
    afterAll(async () => {
      await ctx.close();
    });

    it('should give up on a handshake whose every check overlaps a revocation of its user, instead of looping', async () => {
      const user = await ctx.signUp();
      const claims = new JwtService().decode<{ sid: string }>(user.accessToken);
      const sessions = ctx.app.get(SessionRepository);
      const events = ctx.app.get(AccountEvents);
      const original = sessions.findById.bind(sessions);
      let checks = 0;
      // Every lookup of this session overlaps a revocation of another session of the same user.
      sessions.findById = async (id: string) => {
        if (id === claims.sid) {
          checks++;
          await events.publish({ type: 'revoked', userId: user.id, sessionIds: [`other-${checks}`] });
        }
        return original(id);
      };
      try {
        const outcome = await Promise.race([
          refusal(ctx.url, { token: user.accessToken }),
          sleep(8000).then(() => 'still checking after 8 s'),
        ]);
        expect(outcome).toBe('unauthorized');
        expect(checks).toBeGreaterThanOrEqual(2);
        expect(checks).toBeLessThanOrEqual(5);
      } finally {
        sessions.findById = original;
      }
      // Nothing was revoked for real: the same token connects once the storm is over.
      expect((await open(ctx, user.accessToken)).connected).toBe(true);
    }, 20_000);
  });
});
