import { AppError } from '@app/common';
import { SessionRepository, UserRepository } from '@app/persistence';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { looksLikeApiKey } from '../api-key/api-key-secret';
import { ApiKeyVerifier } from '../api-key/api-key-verifier';
import type { AuthUser } from '../auth-user';
import { AccountEvents } from '../events/account-events';
import { AccessTokens } from './access-token.service';
import { SessionCache } from './session-cache';

/** A verified credential: who it stands for, and until when it holds without another check. */
export interface VerifiedAccess {
  user: AuthUser;
  /**
   * When the credential expires by itself (ms since the epoch): an access token's expiry, or its session's if
   * sooner; an API key's expiry, or null for a key that never expires.
   */
  expiresAt: number | null;
}

/** How long a positive session check is trusted without reading the database again. */
export const SESSION_CHECK_TTL_MS = 2000;

/**
 * The one way a bearer token becomes an `AuthUser`, for HTTP (the global guard) and Socket.IO (the handshake).
 * A personal API key (`cfk_...`) is checked by `ApiKeyVerifier`; for an access token the JWT must verify (HS256, not expired, an access token), its session must be live and its user must exist and
 * be enabled. Positive answers are cached for `SESSION_CHECK_TTL_MS` and dropped at once on revocation events.
 */
@Injectable()
export class TokenVerifier implements OnModuleDestroy {
  private readonly cache = new SessionCache(SESSION_CHECK_TTL_MS);
  private readonly unsubscribe: () => void;

  constructor(
    private readonly accessTokens: AccessTokens,
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly apiKeys: ApiKeyVerifier,
    events: AccountEvents,
  ) {
    this.unsubscribe = events.on((event) => this.cache.forget(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The caller the token stands for, or `unauthorized` (an AppError) when it does not stand for a live session or key. */
  async authenticate(token: string): Promise<AuthUser> {
    return (await this.verify(token)).user;
  }

  /** As `authenticate`, and until when the answer holds by itself (see `VerifiedAccess.expiresAt`). */
  async verify(token: string): Promise<VerifiedAccess> {
    if (looksLikeApiKey(token)) {
      return this.apiKeys.verify(token);
    }
    const claims = await this.accessTokens.verify(token);
    const tokenExpiresAt = claims.exp * 1000;
    const now = Date.now();
    const cached = this.cache.get(claims.sid, now);
    if (cached) {
      if (cached.user.userId !== claims.sub) {
        throw unauthorized();
      }
      return { user: cached.user, expiresAt: Math.min(tokenExpiresAt, cached.sessionExpiresAt) };
    }
    const startedAt = this.cache.begin();
    const [session, user] = await Promise.all([this.sessions.findById(claims.sid), this.users.findById(claims.sub)]);
    if (
      !session ||
      !user ||
      session.userId !== user.id ||
      session.revokedAt !== null ||
      session.expiresAt.getTime() <= now ||
      user.disabled
    ) {
      throw unauthorized();
    }
    const live = {
      user: { userId: user.id, role: user.role, sessionId: session.id },
      sessionExpiresAt: session.expiresAt.getTime(),
    };
    this.cache.set(live, Date.now(), startedAt);
    return { user: live.user, expiresAt: Math.min(tokenExpiresAt, live.sessionExpiresAt) };
  }
}

function unauthorized(): AppError {
  return new AppError('unauthorized', 'Session expired or revoked');
}
