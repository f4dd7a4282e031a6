import { AppError } from '@app/common';
import { SessionRepository, UserRepository } from '@app/persistence';
import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { looksLikeApiKey } from '../api-key/api-key-secret';
import { ApiKeyVerifier } from '../api-key/api-key-verifier';
import type { AuthUser } from '../auth-user';
import { AccountEvents } from '../events/account-events';
import { AccessTokens } from './access-token.service';
import { SessionCache } from './session-cache';

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
    this.unsubscribe = events.on((event) => {
      if (event.type === 'changed' || event.sessionIds === 'all') {
        this.cache.dropUser(event.userId);
      } else {
        this.cache.dropSessions(event.sessionIds);
      }
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The caller the token stands for, or `unauthorized` (an AppError) when it does not stand for a live session or key. */
  async authenticate(token: string): Promise<AuthUser> {
    if (looksLikeApiKey(token)) {
      return this.apiKeys.authenticate(token);
    }
    const claims = await this.accessTokens.verify(token);
    const now = Date.now();
    const cached = this.cache.get(claims.sid, now);
    if (cached) {
      if (cached.userId !== claims.sub) {
        throw unauthorized();
      }
      return cached;
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
    const authUser: AuthUser = { userId: user.id, role: user.role, sessionId: session.id };
    this.cache.set(authUser, Date.now(), startedAt);
    return authUser;
  }
}

function unauthorized(): AppError {
  return new AppError('unauthorized', 'Session expired or revoked');
}
