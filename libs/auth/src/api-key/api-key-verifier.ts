import { AppError } from '@app/common';
import { ApiKeyRepository, UserRepository } from '@app/persistence';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AuthUser } from '../auth-user';
import { AccountEvents } from '../events/account-events';
import { SessionCache } from '../token/session-cache';
import type { VerifiedAccess } from '../token/token-verifier';
import { apiKeySessionId, hashApiKey, isWellFormedApiKey } from './api-key-secret';

/** How long a positive key check is trusted without reading the database again (as for sessions). */
const KEY_CHECK_TTL_MS = 2000;
/** `lastUsedAt` is written at most this often per key, not on every request. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const MAX_REMEMBERED = 10_000;

interface KnownKey {
  id: string;
  expiresAt: number | null;
}

/**
 * Turns a personal API key into the `AuthUser` of its owner: the digest must name a stored key that has not
 * expired, whose user exists and is enabled. Answers are cached briefly and dropped at once by the same revocation
 * events as sessions (a revoked key is `apikey:<id>`; a disabled or deleted user revokes `all`), on every instance.
 */
@Injectable()
export class ApiKeyVerifier implements OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyVerifier.name);
  private readonly cache = new SessionCache(KEY_CHECK_TTL_MS, MAX_REMEMBERED);
  /** Digest -> key: stable for a key's whole life, so only the user check above needs to expire. */
  private readonly known = new Map<string, KnownKey>();
  /** When this instance last wrote each key's `lastUsedAt`. */
  private readonly touched = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly users: UserRepository,
    events: AccountEvents,
  ) {
    this.unsubscribe = events.on((event) => this.cache.forget(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  async authenticate(token: string): Promise<AuthUser> {
    return (await this.verify(token)).user;
  }

  /** The key's owner and the key's expiry (null: never). */
  async verify(token: string): Promise<VerifiedAccess> {
    if (!isWellFormedApiKey(token)) {
      throw invalidKey();
    }
    const digest = hashApiKey(token);
    const now = Date.now();
    const known = this.known.get(digest);
    if (known) {
      if (known.expiresAt !== null && known.expiresAt <= now) {
        throw new AppError('unauthorized', 'API key expired');
      }
      const cached = this.cache.get(apiKeySessionId(known.id), now);
      if (cached) {
        this.touch(known.id, now);
        return { user: cached.user, expiresAt: known.expiresAt };
      }
    }
    const startedAt = this.cache.begin();
    const key = await this.keys.findBySecretHash(digest);
    if (!key) {
      this.known.delete(digest);
      throw invalidKey();
    }
    if (key.expiresAt !== null && key.expiresAt.getTime() <= now) {
      throw new AppError('unauthorized', 'API key expired');
    }
    const user = await this.users.findById(key.userId);
    if (!user || user.disabled) {
      throw invalidKey();
    }
    remember(this.known, digest, { id: key.id, expiresAt: key.expiresAt?.getTime() ?? null });
    const authUser: AuthUser = {
      userId: user.id,
      role: user.role,
      sessionId: apiKeySessionId(key.id),
      apiKeyId: key.id,
    };
    const expiresAt = key.expiresAt?.getTime() ?? null;
    this.cache.set({ user: authUser, sessionExpiresAt: expiresAt ?? Number.MAX_SAFE_INTEGER }, Date.now(), startedAt);
    if (key.lastUsedAt === null || key.lastUsedAt.getTime() <= now - LAST_USED_RESOLUTION_MS) {
      this.touch(key.id, now);
    } else {
      remember(this.touched, key.id, key.lastUsedAt.getTime());
    }
    return { user: authUser, expiresAt };
  }

  /** Records the use at most once a minute per key: in memory here, and by a conditional write across instances. */
  private touch(keyId: string, now: number): void {
    const last = this.touched.get(keyId);
    if (last !== undefined && last > now - LAST_USED_RESOLUTION_MS) {
      return;
    }
    remember(this.touched, keyId, now);
    this.keys
      .touch(keyId, new Date(now), new Date(now - LAST_USED_RESOLUTION_MS))
      .catch((err: unknown) => this.logger.warn(`Cannot record an API key's last use: ${(err as Error).message}`));
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.size >= MAX_REMEMBERED && !map.has(key)) {
    // Maps iterate in insertion order: the first key is the oldest entry.
    const oldest = map.keys().next();
    if (!oldest.done) {
      map.delete(oldest.value);
    }
  }
  map.set(key, value);
}

function invalidKey(): AppError {
  return new AppError('unauthorized', 'Invalid API key');
}
