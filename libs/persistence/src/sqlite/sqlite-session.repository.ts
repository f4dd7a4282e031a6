import { newId } from '@app/common';
import type { SessionEntity } from '../ports/entities';
import { MAX_GRACE_CHAIN, type NextRefreshToken, type RotateResult, SessionRepository } from '../ports/repositories';
import { type Db, prepared } from './sqlite-database';

interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  user_agent: string | null;
  ip: string | null;
}

interface SpentToken {
  used_at: number | null;
  successor_hash: string | null;
  successor_sealed: string | null;
}

function toSession(row: SessionRow): SessionEntity {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: new Date(row.created_at),
    lastUsedAt: new Date(row.last_used_at),
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    userAgent: row.user_agent,
    ip: row.ip,
  };
}

export class SqliteSessionRepository extends SessionRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(input: {
    userId: string;
    tokenHash: string;
    expiresAt: Date;
    userAgent?: string | null;
    ip?: string | null;
  }): Promise<SessionEntity> {
    const now = Date.now();
    const create = this.db.transaction(() => {
      const row = prepared(
        this.db,
        `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at, user_agent, ip)
           VALUES (?, ?, ?, ?, ?, NULL, ?, ?) RETURNING *`,
      ).get(
        newId(),
        input.userId,
        now,
        now,
        input.expiresAt.getTime(),
        input.userAgent ?? null,
        input.ip ?? null,
      ) as SessionRow;
      prepared(
        this.db,
        'INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)',
      ).run(input.tokenHash, row.id, input.expiresAt.getTime());
      return row;
    });
    return toSession(create.immediate());
  }

  async findById(id: string): Promise<SessionEntity | null> {
    const row = prepared(this.db, 'SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async findByTokenHash(tokenHash: string): Promise<SessionEntity | null> {
    const row = prepared(
      this.db,
      'SELECT s.* FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?',
    ).get(tokenHash) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async rotate(tokenHash: string, next: NextRefreshToken, now: Date, graceMs: number): Promise<RotateResult> {
    const at = now.getTime();
    const rotate = this.db.transaction((): RotateResult => {
      const token = prepared(
        this.db,
        `SELECT r.used_at, r.expires_at AS token_expires_at, r.successor_hash, r.successor_sealed, s.*
           FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?`,
      ).get(tokenHash) as (SessionRow & SpentToken & { token_expires_at: number }) | undefined;
      if (!token || token.revoked_at !== null || token.token_expires_at <= at || token.expires_at <= at) {
        return { status: 'invalid' };
      }
      if (token.used_at !== null) {
        const successors = at - token.used_at < graceMs ? this.successorsOf(token) : null;
        return successors
          ? { status: 'grace', session: toSession(token), successors }
          : { status: 'reused', session: toSession(token) };
      }
      prepared(
        this.db,
        'UPDATE refresh_tokens SET used_at = ?, successor_hash = ?, successor_sealed = ? WHERE token_hash = ?',
      ).run(at, next.tokenHash, next.sealed, tokenHash);
      // Seals are needed only within the grace: erase the family's older ones.
      prepared(
        this.db,
        `UPDATE refresh_tokens SET successor_sealed = NULL
           WHERE session_id = ? AND successor_sealed IS NOT NULL AND used_at < ?`,
      ).run(token.id, at - graceMs);
      prepared(
        this.db,
        'INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)',
      ).run(next.tokenHash, token.id, next.expiresAt.getTime());
      const row = prepared(
        this.db,
        'UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ? RETURNING *',
      ).get(at, next.expiresAt.getTime(), token.id) as SessionRow;
      return { status: 'rotated', session: toSession(row) };
    });
    // IMMEDIATE: two processes presenting the same token serialize, and only the first rotates it.
    return rotate.immediate();
  }

  /** The seals from a spent token to the family's live one, or null when the chain is broken or too long. */
  private successorsOf(spent: SpentToken): string[] | null {
    const seals: string[] = [];
    let link: SpentToken | undefined = spent;
    while (link && link.used_at !== null) {
      if (link.successor_sealed === null || link.successor_hash === null || seals.length >= MAX_GRACE_CHAIN) {
        return null;
      }
      seals.push(link.successor_sealed);
      link = prepared(
        this.db,
        'SELECT used_at, successor_hash, successor_sealed FROM refresh_tokens WHERE token_hash = ?',
      ).get(link.successor_hash) as SpentToken | undefined;
    }
    return seals;
  }

  async revoke(id: string, now: Date): Promise<boolean> {
    return (
      prepared(this.db, 'UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.getTime(), id)
        .changes === 1
    );
  }

  async revokeAllForUser(userId: string, now: Date, exceptId?: string): Promise<string[]> {
    const rows = prepared(
      this.db,
      'UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id != ? RETURNING id',
    ).all(now.getTime(), userId, exceptId ?? '') as { id: string }[];
    return rows.map((r) => r.id);
  }

  async listActiveForUser(userId: string, now: Date): Promise<SessionEntity[]> {
    const rows = prepared(
      this.db,
      'SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC',
    ).all(userId, now.getTime()) as SessionRow[];
    return rows.map(toSession);
  }
}
