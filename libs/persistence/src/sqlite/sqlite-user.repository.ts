import { AppError, decodeCursor, encodeCursor, newId, type Page, utcDayBounds } from '@app/common';
import type { Role, UserEntity } from '../ports/entities';
import { type PageQuery, UserRepository, type UserWithStats } from '../ports/repositories';
import { type Db, isUniqueViolation, prepared } from './sqlite-database';
import { invalidCursor } from './sqlite-paging';

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: Role;
  disabled: number;
  password_hash: string;
  created_at: number;
  updated_at: number;
}

export function toUser(row: UserRow): UserEntity {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    disabled: row.disabled === 1,
    passwordHash: row.password_hash,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

export class SqliteUserRepository extends UserRepository {
  private readonly insert;
  private readonly byId;
  private readonly byEmail;

  constructor(private readonly db: Db) {
    super();
    // One statement decides the role, so racing first sign-ups cannot both see an empty table.
    this.insert = db.prepare(
      `INSERT INTO users (id, email, email_lower, name, role, disabled, password_hash, created_at, updated_at)
       SELECT @id, @email, @emailLower, @name,
              CASE WHEN @firstUserIsAdmin = 1 AND NOT EXISTS (SELECT 1 FROM users) THEN 'admin' ELSE @role END,
              0, @passwordHash, @now, @now
       RETURNING *`,
    );
    this.byId = db.prepare('SELECT * FROM users WHERE id = ?');
    this.byEmail = db.prepare('SELECT * FROM users WHERE email_lower = ?');
  }

  async create(input: {
    email: string;
    name: string;
    passwordHash: string;
    role?: Role;
    firstUserIsAdmin?: boolean;
  }): Promise<UserEntity> {
    try {
      const row = this.insert.get({
        id: newId(),
        email: input.email,
        emailLower: input.email.toLowerCase(),
        name: input.name,
        role: input.role ?? 'user',
        firstUserIsAdmin: input.firstUserIsAdmin ? 1 : 0,
        passwordHash: input.passwordHash,
        now: Date.now(),
      }) as UserRow;
      return toUser(row);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AppError('conflict', 'An account with this email already exists');
      }
      throw err;
    }
  }

  async findById(id: string): Promise<UserEntity | null> {
    const row = this.byId.get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async findByEmail(email: string): Promise<UserEntity | null> {
    const row = this.byEmail.get(email.toLowerCase()) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async findByIds(ids: string[]): Promise<UserEntity[]> {
    if (ids.length === 0) {
      return [];
    }
    // json_each keeps one prepared statement whatever the number of ids.
    const rows = prepared(this.db, 'SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))').all(
      JSON.stringify(ids),
    ) as UserRow[];
    return rows.map(toUser);
  }

  async update(
    id: string,
    patch: Partial<Pick<UserEntity, 'name' | 'role' | 'disabled' | 'passwordHash'>>,
  ): Promise<UserEntity | null> {
    const row = prepared(
      this.db,
      `UPDATE users SET
           name = COALESCE(@name, name),
           role = COALESCE(@role, role),
           disabled = COALESCE(@disabled, disabled),
           password_hash = COALESCE(@passwordHash, password_hash),
           updated_at = @now
         WHERE id = @id RETURNING *`,
    ).get({
      id,
      name: patch.name ?? null,
      role: patch.role ?? null,
      disabled: patch.disabled === undefined ? null : patch.disabled ? 1 : 0,
      passwordHash: patch.passwordHash ?? null,
      now: Date.now(),
    }) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    // Foreign keys cascade to sessions, refresh tokens, API keys, threads, messages and usage.
    return prepared(this.db, 'DELETE FROM users WHERE id = ?').run(id).changes === 1;
  }

  async list(query: PageQuery & { q?: string; now?: Date }): Promise<Page<UserWithStats>> {
    const [todayFrom, todayTo] = utcDayBounds(query.now ?? new Date());
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (query.cursor && !cursor) {
      throw invalidCursor();
    }
    const q = query.q?.trim()
      ? `%${query.q
          .trim()
          .toLowerCase()
          .replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      : null;
    const rows = prepared(
      this.db,
      `SELECT u.*,
           (SELECT COUNT(*) FROM threads t WHERE t.owner_id = u.id) AS thread_count,
           (SELECT COUNT(*) FROM api_keys a WHERE a.user_id = u.id) AS api_key_count,
           (SELECT COALESCE(SUM(prompt_tokens), 0) FROM token_usage k WHERE k.user_id = u.id) AS prompt_tokens,
           (SELECT COALESCE(SUM(completion_tokens), 0) FROM token_usage k WHERE k.user_id = u.id) AS completion_tokens,
           (SELECT COALESCE(SUM(prompt_tokens), 0) FROM token_usage k
              WHERE k.user_id = u.id AND k.at >= @todayFrom AND k.at < @todayTo) AS prompt_today,
           (SELECT COALESCE(SUM(completion_tokens), 0) FROM token_usage k
              WHERE k.user_id = u.id AND k.at >= @todayFrom AND k.at < @todayTo) AS completion_today,
           MAX(
             COALESCE((SELECT MAX(last_used_at) FROM sessions s WHERE s.user_id = u.id), 0),
             COALESCE((SELECT MAX(last_used_at) FROM api_keys a WHERE a.user_id = u.id), 0)
           ) AS last_active_at
         FROM users u
         WHERE (@q IS NULL OR u.email_lower LIKE @q ESCAPE '\\' OR lower(u.name) LIKE @q ESCAPE '\\')
           AND (@at IS NULL OR u.created_at < @at OR (u.created_at = @at AND u.id < @id))
         ORDER BY u.created_at DESC, u.id DESC
         LIMIT @limit`,
    ).all({
      q,
      at: cursor?.at ?? null,
      id: cursor?.id ?? null,
      limit: query.limit + 1,
      todayFrom,
      todayTo,
    }) as (UserRow & {
      thread_count: number;
      api_key_count: number;
      prompt_tokens: number;
      completion_tokens: number;
      prompt_today: number;
      completion_today: number;
      last_active_at: number;
    })[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        ...toUser(r),
        threadCount: r.thread_count,
        apiKeyCount: r.api_key_count,
        usage: { promptTokens: r.prompt_tokens, completionTokens: r.completion_tokens },
        usageToday: { promptTokens: r.prompt_today, completionTokens: r.completion_today },
        lastActiveAt: r.last_active_at > 0 ? new Date(r.last_active_at) : null,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.created_at, id: last.id }) : null,
    };
  }

  async count(): Promise<number> {
    return (prepared(this.db, 'SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  async countAdmins(options: { enabledOnly?: boolean } = {}): Promise<number> {
    const sql = options.enabledOnly
      ? "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0"
      : "SELECT COUNT(*) AS n FROM users WHERE role = 'admin'";
    return (prepared(this.db, sql).get() as { n: number }).n;
  }
}
