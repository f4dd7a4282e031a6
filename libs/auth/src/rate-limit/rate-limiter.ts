import { AppError, RedisConnections } from '@app/common';
import { Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { FixedWindowCounters, type RateRule, retryAfterSeconds, type WindowCount } from './fixed-window';

// One round trip, atomic: count the hit and start the window's clock on the first one.
const HIT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

// Never creates a key: a refund after the window ended is a no-op.
const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('DECR', KEYS[1])
end
return 0`;

/**
 * Fixed-window rate limits. With REDIS_URL the counters live in Redis, shared by every instance; without it, or
 * while Redis does not answer, in this process's memory.
 */
@Injectable()
export class RateLimiter {
  private readonly logger = new Logger(RateLimiter.name);
  private readonly memory = new FixedWindowCounters();
  private redisFailing = false;

  constructor(private readonly redis: RedisConnections) {}

  /** Counts one hit on `key`; throws `rate_limited` (with Retry-After) when it goes over the rule's limit. */
  async consume(key: string, rule: RateRule, message = 'Too many requests, try again later'): Promise<void> {
    const { count, resetInMs } = await this.hit(key, rule.windowMs);
    if (count > rule.limit) {
      throw new AppError('rate_limited', message, { retryAfterSeconds: retryAfterSeconds(resetInMs) });
    }
  }

  /** Takes back one hit on `key` (e.g. an attempt that turned out to succeed). */
  async refund(key: string): Promise<void> {
    const redisKey = this.redisKey(key);
    if (redisKey) {
      try {
        await this.redis.client.eval(REFUND, 1, redisKey);
        this.recovered();
        return;
      } catch (err) {
        this.failed(err);
      }
    }
    this.memory.refund(key, Date.now());
  }

  /** Counts one hit on `key` without a limit: the hits of the current window, this one included. */
  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const redisKey = this.redisKey(key);
    if (redisKey) {
      try {
        const [count, ttl] = (await this.redis.client.eval(HIT, 1, redisKey, windowMs)) as [number, number];
        this.recovered();
        return { count, resetInMs: ttl };
      } catch (err) {
        this.failed(err);
      }
    }
    return this.memory.hit(key, windowMs, Date.now());
  }

  /** Keys hold emails and addresses: hashed, they stay short and out of Redis in clear text. */
  private redisKey(key: string): string | null {
    return this.redis.enabled ? this.redis.key(`rl:${createHash('sha256').update(key).digest('base64url')}`) : null;
  }

  private failed(err: unknown): void {
    if (!this.redisFailing) {
      this.logger.warn(`Rate limits fall back to process memory: ${(err as Error).message}`);
      this.redisFailing = true;
    }
  }

  private recovered(): void {
    if (this.redisFailing) {
      this.logger.log('Rate limits are shared through Redis again');
      this.redisFailing = false;
    }
  }
}
