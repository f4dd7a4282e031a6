import { APP_CONFIG, AppError, type AppConfig, RedisConnections } from '@app/common';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LEASE_MS } from './lease';

// One round trip, atomic: forget expired slots, then take one if fewer than the limit are held.
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/** A user's running generation, counted against USER_MAX_CONCURRENT until released (or, after a crash, expired). */
export interface GenerationSlot {
  /** Pushes the expiry forward (with the thread lease). */
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * How many replies one user may have generating at once (USER_MAX_CONCURRENT). With REDIS_URL the count spans every
 * instance (a sorted set of slots per user, expiring like the thread lease so that a crash frees them); without it,
 * or while Redis does not answer, it is this instance's.
 */
@Injectable()
export class GenerationSlots {
  private readonly logger = new Logger(GenerationSlots.name);
  private readonly local = new Map<string, Set<string>>();
  private redisFailing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {}

  /** Takes a slot, or throws `rate_limited` when the user already has USER_MAX_CONCURRENT replies generating. */
  async acquire(userId: string): Promise<GenerationSlot> {
    const limit = this.config.userMaxConcurrent;
    const id = randomUUID();
    const key = this.redis.key(`generating:${userId}`);
    if (this.redis.enabled) {
      try {
        const now = Date.now();
        const taken = await this.redis.client.eval(ACQUIRE, 1, key, now, now + LEASE_MS, limit, id, LEASE_MS * 2);
        this.recovered();
        if (taken !== 1) {
          throw tooMany();
        }
        return {
          renew: async () => {
            await this.redis.client
              .multi()
              .zadd(key, 'XX', Date.now() + LEASE_MS, id)
              .pexpire(key, LEASE_MS * 2)
              .exec()
              .catch((err: Error) => this.failed(err));
          },
          release: async () => {
            await this.redis.client.zrem(key, id).catch((err: Error) => this.failed(err));
          },
        };
      } catch (err) {
        if (err instanceof AppError) {
          throw err;
        }
        this.failed(err as Error);
      }
    }
    return this.acquireLocal(userId, id, limit);
  }

  private acquireLocal(userId: string, id: string, limit: number): GenerationSlot {
    const slots = this.local.get(userId) ?? new Set<string>();
    if (slots.size >= limit) {
      throw tooMany();
    }
    slots.add(id);
    this.local.set(userId, slots);
    return {
      renew: async () => undefined,
      release: async () => {
        slots.delete(id);
        if (slots.size === 0 && this.local.get(userId) === slots) {
          this.local.delete(userId);
        }
      },
    };
  }

  private failed(err: Error): void {
    if (!this.redisFailing) {
      this.redisFailing = true;
      this.logger.warn(`Concurrent generation limits fall back to this instance: ${err.message}`);
    }
  }

  private recovered(): void {
    if (this.redisFailing) {
      this.redisFailing = false;
      this.logger.log('Concurrent generation limits are shared through Redis again');
    }
  }
}

function tooMany(): AppError {
  return new AppError('rate_limited', 'Too many replies being generated at once: wait for one to finish', {
    retryAfterSeconds: 1,
  });
}
