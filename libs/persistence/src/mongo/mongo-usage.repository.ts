import { newId, utcDayBounds } from '@app/common';
import type { TokenUsage } from '../ports/entities';
import { type DailyUsage, UsageRepository } from '../ports/repositories';
import type { MongoModels } from './mongo-models';
import type { TokenUsageDoc } from './token-usage.schema';

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

  /** Aggregations skip mongoose's filter sanitizing, hence the explicit `$eq` on values from callers. */
  private async sum(match: Record<string, unknown>): Promise<TokenUsage> {
    const [row] = await this.m.tokenUsage.aggregate<{ p: number; c: number }>([
      { $match: match },
      { $group: { _id: null, p: { $sum: '$promptTokens' }, c: { $sum: '$completionTokens' } } },
    ]);
    return { promptTokens: row?.p ?? 0, completionTokens: row?.c ?? 0 };
  }
}
