import type { AuthUser } from '../auth-user';
import type { AccountEvent } from '../events/account-events';

/** A session found live, with its user. */
export interface LiveSession {
  user: AuthUser;
  /** When the session itself expires (ms since the epoch). */
  sessionExpiresAt: number;
}

interface Entry {
  session: LiveSession;
  expiresAt: number;
}

/**
 * Remembers, for a short while, that a session was live and its user enabled, so that not every request reads
 * the database. Entries are dropped at once when a revocation event names them; a lookup that started before such
 * an event never stores its (possibly stale) answer.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(sessionId: string, now: number): LiveSession | undefined {
    const entry = this.entries.get(sessionId);
    if (!entry) {
      return undefined;
    }
    if (entry.expiresAt <= now) {
      this.entries.delete(sessionId);
      return undefined;
    }
    return entry.session;
  }

  /** A token to pass to `set`: it is refused if anything was dropped in between. */
  begin(): number {
    return this.generation;
  }

  set(session: LiveSession, now: number, startedAt: number): void {
    if (startedAt !== this.generation) {
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      // Maps iterate in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.entries.delete(oldest.value);
      }
    }
    // Never trusted past the session's own expiry.
    const expiresAt = Math.min(now + this.ttlMs, session.sessionExpiresAt);
    this.entries.set(session.user.sessionId, { session, expiresAt });
  }

  dropSessions(sessionIds: readonly string[]): void {
    this.generation++;
    for (const id of sessionIds) {
      this.entries.delete(id);
    }
  }

  dropUser(userId: string): void {
    this.generation++;
    for (const [id, entry] of this.entries) {
      if (entry.session.user.userId === userId) {
        this.entries.delete(id);
      }
    }
  }

  /** Drops what an account event makes stale: the named sessions, or all of the user's. */
  forget(event: AccountEvent): void {
    if (event.type === 'changed' || event.sessionIds === 'all') {
      this.dropUser(event.userId);
    } else {
      this.dropSessions(event.sessionIds);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
