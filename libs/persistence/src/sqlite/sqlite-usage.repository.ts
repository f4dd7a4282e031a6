import { DAY_MS, utcDayBounds } from '@app/common';
import type { TokenUsage } from '../ports/entities';
import { type DailyUsage, UsageRepository } from '../ports/repositories';
import { type Db, prepared } from './sqlite-database';

interface SumRow {
  p: number;
  c: number;
}

const toUsage = (row: SumRow): TokenUsage => ({ promptTokens: row.p, completionTokens: row.c });
const SUMS = 'COALESCE(SUM(prompt_tokens), 0) AS p, COALESCE(SUM(completion_tokens), 0) AS c';

export class SqliteUsageRepository extends UsageRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async add(userId: string, usage: TokenUsage, at: Date): Promise<void> {
    prepared(
      this.db,
      'INSERT INTO token_usage (user_id, at, prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?)',
    ).run(userId, at.getTime(), usage.promptTokens, usage.completionTokens);
  }

  async forDay(userId: string, at: Date): Promise<TokenUsage> {
    const [from, to] = utcDayBounds(at);
    return toUsage(
      prepared(this.db, `SELECT ${SUMS} FROM token_usage WHERE user_id = ? AND at >= ? AND at < ?`).get(
        userId,
        from,
        to,
      ) as SumRow,
    );
  }

  async total(userId: string): Promise<TokenUsage> {
    return toUsage(prepared(this.db, `SELECT ${SUMS} FROM token_usage WHERE user_id = ?`).get(userId) as SumRow);
  }

  async daily(userId: string, from: Date, to: Date): Promise<DailyUsage[]> {
    const [start] = utcDayBounds(from);
    const [, end] = utcDayBounds(to);
    const rows = prepared(
      this.db,
      `SELECT at / ${DAY_MS} AS d, ${SUMS} FROM token_usage WHERE user_id = ? AND at >= ? AND at < ? GROUP BY d ORDER BY d`,
    ).all(userId, start, end) as (SumRow & { d: number })[];
    return rows.map((r) => ({ day: new Date(r.d * DAY_MS).toISOString().slice(0, 10), usage: toUsage(r) }));
  }

  async reserve(
    userId: string,
    request: { wanted: number; minimum: number; limit: number; at: Date; until: Date },
  ): Promise<{ id: string; tokens: number } | null> {
    const [from, to] = utcDayBounds(request.at);
    const statement = prepared(
      this.db,
      `INSERT INTO token_usage (user_id, at, prompt_tokens, completion_tokens, reserved_tokens, reserved_until)
       SELECT @user, @at, 0, 0, MIN(@wanted, @limit - spent), @until FROM (
         SELECT COALESCE(SUM(prompt_tokens + completion_tokens
           + CASE WHEN reserved_until > @now THEN reserved_tokens ELSE 0 END), 0) AS spent
         FROM token_usage WHERE user_id = @user AND at >= @from AND at < @to)
       WHERE @limit - spent >= @minimum
       RETURNING id, reserved_tokens AS tokens`,
    );
    // IMMEDIATE: the write lock is taken before the sum is read, so no other process reserves in between.
    const row = this.db
      .transaction(
        () =>
          statement.get({
            user: userId,
            at: request.at.getTime(),
            now: Date.now(),
            from,
            to,
            wanted: request.wanted,
            minimum: request.minimum,
            limit: request.limit,
            until: request.until.getTime(),
          }) as { id: number; tokens: number } | undefined,
      )
      .immediate();
    return row ? { id: String(row.id), tokens: row.tokens } : null;
  }

  async settle(reservationId: string, usage: TokenUsage): Promise<void> {
    prepared(
      this.db,
      `UPDATE token_usage SET prompt_tokens = ?, completion_tokens = ?, reserved_tokens = 0, reserved_until = NULL
       WHERE id = ?`,
    ).run(usage.promptTokens, usage.completionTokens, Number(reservationId));
  }

  async release(reservationId: string): Promise<void> {
    prepared(this.db, 'DELETE FROM token_usage WHERE id = ? AND reserved_tokens > 0').run(Number(reservationId));
  }

  async totalAll(since?: Date): Promise<TokenUsage> {
    return toUsage(
      prepared(this.db, `SELECT ${SUMS} FROM token_usage WHERE at >= ?`).get(since?.getTime() ?? 0) as SumRow,
    );
  }
}
