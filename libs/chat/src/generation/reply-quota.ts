import { APP_CONFIG, AppError, type AppConfig, utcDayBounds } from '@app/common';
import { type TokenUsage, UsageRepository } from '@app/persistence';
import { Inject, Injectable } from '@nestjs/common';

/**
 * A reservation outlives a crashed instance by this long at most (its tokens are then free again). Longer than any
 * reply takes: 32,768 tokens at 20 a second is 27 minutes.
 */
const RESERVATION_MS = 30 * 60_000;

/** The tokens set aside for one model call, settled with what it actually spent. */
export interface QuotaReservation {
  /** The reply budget to send upstream as max_tokens: what was asked for, capped by what is left of the quota. */
  maxTokens: number;
  /** Records the tokens spent (null: nothing to record, e.g. the reply vanished with its thread). */
  settle(usage: TokenUsage | null): Promise<void>;
}

/**
 * The daily token quota (USER_DAILY_TOKEN_LIMIT) as reservations: each model call reserves its prompt and its reply
 * budget against what is left today, atomically in the database (so parallel sends on any number of instances never
 * spend more than the limit together), and the actual usage settles the reservation.
 */
@Injectable()
export class ReplyQuota {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly usage: UsageRepository,
  ) {}

  /** A fast refusal before any work when nothing is left today. */
  async check(userId: string): Promise<void> {
    const limit = this.config.userDailyTokenLimit;
    if (limit <= 0) {
      return;
    }
    const today = await this.usage.forDay(userId, new Date());
    if (today.promptTokens + today.completionTokens >= limit) {
      throw exceeded();
    }
  }

  /**
   * Reserves `promptTokens` and up to `replyBudget` more; throws `quota_exceeded` when not even the prompt and one
   * token of reply are left.
   */
  async reserve(userId: string, promptTokens: number, replyBudget: number): Promise<QuotaReservation> {
    const limit = this.config.userDailyTokenLimit;
    const now = new Date();
    if (limit <= 0) {
      return {
        maxTokens: replyBudget,
        settle: async (usage) => {
          if (usage) {
            await this.usage.add(userId, usage, now);
          }
        },
      };
    }
    const reservation = await this.usage.reserve(userId, {
      wanted: promptTokens + replyBudget,
      minimum: promptTokens + 1,
      limit,
      at: now,
      until: new Date(now.getTime() + RESERVATION_MS),
    });
    if (!reservation) {
      throw exceeded();
    }
    return {
      maxTokens: reservation.tokens - promptTokens,
      settle: async (usage) => {
        await (usage ? this.usage.settle(reservation.id, usage) : this.usage.release(reservation.id));
      },
    };
  }
}

function exceeded(): AppError {
  const now = new Date();
  const [, midnight] = utcDayBounds(now);
  return new AppError('quota_exceeded', 'Daily token quota exceeded', {
    retryAfterSeconds: Math.ceil((midnight - now.getTime()) / 1000),
  });
}
