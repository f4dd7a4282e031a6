import { newId, utcDayBounds } from '@app/common';
import type { TokenUsage } from '../ports/entities';
import { type DailyUsage, UsageRepository } from '../ports/repositories';
import type { MongoModels } from './mongo-models';
import { isDuplicateKey } from './mongo-errors';
import { op } from './mongo-filter';
import type { TokenUsageDoc } from './token-usage.schema';

/** Reservations racing for one user's quota retry this often before giving up (answered as quota exceeded). */
const RESERVE_ATTEMPTS = 20;

/** The UTC day containing `at`, as [start, end). */
function utcDay(at: Date): [Date, Date] {
  const [start, end] = utcDayBounds(at);
  return [new Date(start), new Date(end)];
}

export class MongoUsageRepository extends UsageRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async add(userId: string, usage: TokenUsage, at: Date): Promise<void> {
    const doc: TokenUsageDoc = {
      _id: newId(),
      userId,
      at,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
    };
    await this.m.tokenUsage.create(doc);
  }

  async forDay(userId: string, at: Date): Promise<TokenUsage> {
    const [from, to] = utcDay(at);
    return this.sum({ userId: { $eq: userId }, at: { $gte: from, $lt: to } });
  }

  async total(userId: string): Promise<TokenUsage> {
    return this.sum({ userId: { $eq: userId } });
  }

  async daily(userId: string, from: Date, to: Date): Promise<DailyUsage[]> {
    const [start] = utcDay(from);
    const [, end] = utcDay(to);
    const rows = await this.m.tokenUsage.aggregate<{ _id: string; p: number; c: number }>([
      { $match: { userId: { $eq: userId }, at: { $gte: start, $lt: end } } },
      {
        $group: {
          _id: { $dateToString: { format: '%Y-%m-%d', date: '$at', timezone: 'UTC' } },
          p: { $sum: '$promptTokens' },
          c: { $sum: '$completionTokens' },
        },
      },
      { $sort: { _id: 1 } },
    ]);
    return rows.map((r) => ({ day: r._id, usage: { promptTokens: r.p, completionTokens: r.c } }));
  }

  async totalAll(since?: Date): Promise<TokenUsage> {
    return this.sum(since ? { at: { $gte: since } } : {});
  }

  async reserve(
    userId: string,
    request: { wanted: number; minimum: number; limit: number; at: Date; until: Date },
  ): Promise<{ id: string; tokens: number } | null> {
    // Optimistic: read the user's lock version, then the sums; insert the reservation, then bump the version only if
    // it is still the one read. A reservation that lost the race is deleted and tried again on fresh sums; one that
    // won was inserted before its bump, so every later reader of the new version sees it.
    for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
      const lock = await this.m.quotaLocks.findById(userId).lean<{ version: number }>();
      const version = lock?.version ?? 0;
      const spent = await this.spentWithReservations(userId, request.at);
      const tokens = Math.min(request.wanted, request.limit - spent);
      if (tokens < request.minimum) {
        return null;
      }
      const id = newId();
      await this.m.tokenUsage.create({
        _id: id,
        userId,
        at: request.at,
        promptTokens: 0,
        completionTokens: 0,
        reservedTokens: tokens,
        reservedUntil: request.until,
      } satisfies TokenUsageDoc);
      try {
        // No document with this version: the upsert inserts one with this _id, which fails as a duplicate.
        await this.m.quotaLocks.findOneAndUpdate({ _id: userId, version }, { $inc: { version: 1 } }, { upsert: true });
        return { id, tokens };
      } catch (err) {
        await this.m.tokenUsage.deleteOne({ _id: id });
        if (!isDuplicateKey(err)) {
          throw err;
        }
      }
    }
    return null;
  }

  async settle(reservationId: string, usage: TokenUsage): Promise<void> {
    await this.m.tokenUsage.updateOne(
      { _id: reservationId },
      {
        $set: {
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          reservedTokens: 0,
          reservedUntil: null,
        },
      },
    );
  }

  async release(reservationId: string): Promise<void> {
    await this.m.tokenUsage.deleteOne({ _id: reservationId, reservedTokens: op({ $gt: 0 }) });
  }

  private async spentWithReservations(userId: string, at: Date): Promise<number> {
    const [from, to] = utcDay(at);
    const [row] = await this.m.tokenUsage.aggregate<{ total: number }>([
      { $match: { userId: { $eq: userId }, at: { $gte: from, $lt: to } } },
      {
        $group: {
          _id: null,
          total: {
            $sum: {
              $add: [
                '$promptTokens',
                '$completionTokens',
                { $cond: [{ $gt: ['$reservedUntil', new Date()] }, { $ifNull: ['$reservedTokens', 0] }, 0] },
              ],
            },
          },
        },
      },
    ]);
    return row?.total ?? 0;
  }

  /** Aggregations skip mongoose's filter sanitizing, hence the explicit `$eq` on values from callers. */
  private async sum(match: Record<string, unknown>): Promise<TokenUsage> {
    const [row] = await this.m.tokenUsage.aggregate<{ p: number; c: number }>([
      { $match: match },
      { $group: { _id: null, p: { $sum: '$promptTokens' }, c: { $sum: '$completionTokens' } } },
    ]);
    return { promptTokens: row?.p ?? 0, completionTokens: row?.c ?? 0 };
  }
}
