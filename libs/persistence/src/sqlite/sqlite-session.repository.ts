import { newId } from '@app/common';
import type { SessionEntity } from '../ports/entities';
import { type ConsumeResult, SessionRepository } from '../ports/repositories';
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

  async rotate(tokenHash: string, nextTokenHash: string, now: Date, nextExpiresAt: Date): Promise<ConsumeResult> {
    const at = now.getTime();
    const rotate = this.db.transaction((): ConsumeResult => {
      const token = prepared(
        this.db,
        `SELECT r.used_at, r.expires_at AS token_expires_at, s.* FROM refresh_tokens r
           JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?`,
      ).get(tokenHash) as (SessionRow & { used_at: number | null; token_expires_at: number }) | undefined;
      if (!token || token.revoked_at !== null || token.token_expires_at <= at || token.expires_at <= at) {
        return { status: 'invalid' };
      }
      if (token.used_at !== null) {
        return { status: 'reused', session: toSession(token) };
      }
      prepared(this.db, 'UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?').run(at, tokenHash);
      prepared(
        this.db,
        'INSERT INTO refresh_tokens (token_hash, session_id, expires_at, used_at) VALUES (?, ?, ?, NULL)',
      ).run(nextTokenHash, token.id, nextExpiresAt.getTime());
      const row = prepared(
        this.db,
        'UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE id = ? RETURNING *',
      ).get(at, nextExpiresAt.getTime(), token.id) as SessionRow;
      return { status: 'rotated', session: toSession(row) };
    });
    // IMMEDIATE: two processes presenting the same token serialize, and only the first rotates it.
    return rotate.immediate();
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
