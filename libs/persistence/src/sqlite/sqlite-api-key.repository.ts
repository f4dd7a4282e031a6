import { newId } from '@app/common';
import type { ApiKeyEntity } from '../ports/entities';
import { ApiKeyRepository } from '../ports/repositories';
import { type Db, prepared } from './sqlite-database';

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The columns handed out: never the secret's digest. */
const COLUMNS = 'id, user_id, name, prefix, created_at, expires_at, last_used_at';

function toApiKey(row: ApiKeyRow): ApiKeyEntity {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}

export class SqliteApiKeyRepository extends ApiKeyRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(
    input: { userId: string; name: string; prefix: string; secretHash: string; expiresAt: Date | null },
    maxPerUser: number,
  ): Promise<ApiKeyEntity | null> {
    // One statement counts and inserts, so racing creations cannot pass the limit together.
    const row = prepared(
      this.db,
      `INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, created_at, expires_at, last_used_at)
         SELECT @id, @userId, @name, @prefix, @secretHash, @now, @expiresAt, NULL
         WHERE (SELECT COUNT(*) FROM api_keys WHERE user_id = @userId) < @max
         RETURNING ${COLUMNS}`,
    ).get({
      id: newId(),
      userId: input.userId,
      name: input.name,
      prefix: input.prefix,
      secretHash: input.secretHash,
      now: Date.now(),
      expiresAt: input.expiresAt?.getTime() ?? null,
      max: maxPerUser,
    }) as ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  async findBySecretHash(secretHash: string): Promise<ApiKeyEntity | null> {
    const row = prepared(this.db, `SELECT ${COLUMNS} FROM api_keys WHERE secret_hash = ?`).get(secretHash) as
      ApiKeyRow | undefined;
    return row ? toApiKey(row) : null;
  }

  async listForUser(userId: string): Promise<ApiKeyEntity[]> {
    const rows = prepared(
      this.db,
      `SELECT ${COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC`,
    ).all(userId) as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  async delete(userId: string, id: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM api_keys WHERE id = ? AND user_id = ?').run(id, userId).changes === 1;
  }

  async touch(id: string, at: Date, olderThan: Date): Promise<boolean> {
    return (
      prepared(
        this.db,
        'UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)',
      ).run(at.getTime(), id, olderThan.getTime()).changes === 1
    );
  }
}
