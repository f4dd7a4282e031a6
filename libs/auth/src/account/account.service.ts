import { APP_CONFIG, type AppConfig, AppError } from '@app/common';
import { SessionRepository, UserRepository } from '@app/persistence';
import { Inject, Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { ClientInfo } from '../decorators/client.decorator';
import type { LoginDto, RefreshTokenDto, SignUpDto } from '../dto/credentials.dto';
import type { AuthTokensView } from '../dto/responses.dto';
import { AccountEvents } from '../events/account-events';
import { PasswordHasher } from '../password/password-hasher';
import { AbuseLimits } from '../rate-limit/abuse-limits';
import { hashRefreshToken, newRefreshToken, sealSuccessor, unsealSuccessor } from '../token/refresh-token';
import { SessionIssuer } from './session-issuer';

/** Sign-up, sign-in, refresh-token rotation and sign-out: the routes a caller uses before having an access token. */
@Injectable()
export class AccountService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly issuer: SessionIssuer,
    private readonly limits: AbuseLimits,
    private readonly events: AccountEvents,
    private readonly audit: AuditTrail,
  ) {}

  async signUp(client: ClientInfo, dto: SignUpDto): Promise<AuthTokensView> {
    await this.limits.signUp(client);
    if (await this.users.findByEmail(dto.email)) {
      throw duplicateEmail();
    }
    const passwordHash = await this.hasher.hash(dto.password);
    // The repository decides the first admin atomically and refuses a duplicate email that raced past the check.
    const user = await this.users.create({ email: dto.email, name: dto.name, passwordHash, firstUserIsAdmin: true });
    await this.audit.record({
      actorId: user.id,
      action: 'auth.signup',
      targetId: user.id,
      client,
      meta: { role: user.role },
    });
    return this.issuer.start(user, client);
  }

  /**
   * A wrong password and an unknown email get the same answer after the same work (a bcrypt comparison either
   * way). The password is checked before the disabled flag, so only its owner learns that an account is disabled.
   */
  async login(client: ClientInfo, dto: LoginDto): Promise<AuthTokensView> {
    const attempt = await this.limits.signInAttempt(client, dto.email);
    const user = await this.users.findByEmail(dto.email);
    const valid = user
      ? await this.hasher.verify(dto.password, user.passwordHash)
      : await this.hasher.verifyNothing(dto.password);
    if (!user || !valid) {
      await this.audit.record({
        actorId: null,
        action: 'auth.login_failed',
        targetId: user?.id ?? null,
        client,
        meta: { email: dto.email.toLowerCase(), reason: user ? 'wrong_password' : 'unknown_email' },
      });
      throw new AppError('unauthorized', 'Invalid email or password');
    }
    await attempt.succeeded();
    if (user.disabled) {
      await this.audit.record({ actorId: user.id, action: 'auth.login_disabled', targetId: user.id, client });
      throw new AppError('account_disabled', 'This account is disabled');
    }
    return this.issuer.start(user, client);
  }

  /**
   * Spends the refresh token and hands out the next pair. A token that was already spent means that two parties
   * hold the family (one of them stole it): the whole session is revoked and both have to sign in again, unless it
   * was spent less than REFRESH_GRACE ago. Then it is most likely a second tab that refreshed at the same moment:
   * it gets the family's live refresh token (the one the first caller got, or its successor) and a new access token,
   * so both tabs carry on with the same token and a later replay of a spent one is still caught.
   */
  async refresh(client: ClientInfo, dto: RefreshTokenDto): Promise<AuthTokensView> {
    const now = new Date();
    const next = newRefreshToken();
    const result = await this.sessions.rotate(
      hashRefreshToken(dto.refreshToken),
      {
        tokenHash: hashRefreshToken(next),
        expiresAt: this.issuer.refreshExpiry(now),
        sealed: sealSuccessor(next, dto.refreshToken),
      },
      now,
      this.config.refreshGraceMs,
    );
    switch (result.status) {
      case 'invalid':
        throw invalidRefreshToken();
      case 'reused': {
        const { id: sessionId, userId } = result.session;
        await this.endSession(userId, sessionId, now);
        await this.audit.record({
          actorId: null,
          action: 'auth.refresh_reused',
          targetId: userId,
          client,
          meta: { sessionId },
        });
        throw new AppError('unauthorized', 'Refresh token was already used: the session has been revoked');
      }
      case 'grace': {
        let live: string | null = dto.refreshToken;
        for (const sealed of result.successors) {
          live = live === null ? null : unsealSuccessor(sealed, live);
        }
        if (live === null) {
          throw invalidRefreshToken();
        }
        return this.pairFor(result.session.userId, result.session.id, live, now);
      }
      case 'rotated':
        return this.pairFor(result.session.userId, result.session.id, next, now);
    }
  }

  /** Ends the session the refresh token belongs to. Unknown tokens are ignored: signing out is idempotent. */
  async logout(_client: ClientInfo, dto: RefreshTokenDto): Promise<void> {
    const session = await this.sessions.findByTokenHash(hashRefreshToken(dto.refreshToken));
    if (session && session.revokedAt === null) {
      await this.endSession(session.userId, session.id, new Date());
    }
  }

  private async pairFor(userId: string, sessionId: string, refreshToken: string, now: Date): Promise<AuthTokensView> {
    const user = await this.users.findById(userId);
    if (!user || user.disabled) {
      await this.endSession(userId, sessionId, now);
      throw invalidRefreshToken();
    }
    return this.issuer.pair(user, sessionId, refreshToken);
  }

  private async endSession(userId: string, sessionId: string, now: Date): Promise<void> {
    await this.sessions.revoke(sessionId, now);
    await this.events.publish({ type: 'revoked', userId, sessionIds: [sessionId] });
  }
}

function invalidRefreshToken(): AppError {
  return new AppError('unauthorized', 'Invalid or expired refresh token');
}

export function duplicateEmail(): AppError {
  return new AppError('conflict', 'An account with this email already exists');
}
