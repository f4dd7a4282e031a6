import { AppError, TokenBucket } from '@app/common';
import { Injectable } from '@nestjs/common';

/** Per user, all their sockets and REST sends together: a burst of 60 events, 20 a second after that. */
export const USER_EVENT_RATE = { capacity: 60, perSecond: 20 };
/** Buckets kept before full (idle) ones are forgotten. */
const MAX_IDLE_BUCKETS = 10_000;

/**
 * The per-user event budget of this instance, shared by Socket.IO events and REST sends, so that neither transport
 * is a way around the other's limit.
 */
@Injectable()
export class UserEventRate {
  private readonly buckets = new Map<string, TokenBucket>();

  /** Takes one event from the user's bucket; false when it is empty. */
  take(userId: string): boolean {
    let bucket = this.buckets.get(userId);
    if (!bucket) {
      this.forgetIdle();
      bucket = new TokenBucket(USER_EVENT_RATE.capacity, USER_EVENT_RATE.perSecond);
      this.buckets.set(userId, bucket);
    }
    return bucket.take();
  }

  /** Takes one event or throws `rate_limited` with the seconds until the next one is allowed. */
  consume(userId: string, message = 'Too many requests: slow down'): void {
    if (!this.take(userId)) {
      throw new AppError('rate_limited', message, { retryAfterSeconds: this.retryAfterSeconds(userId) });
    }
  }

  retryAfterSeconds(userId: string): number {
    return this.buckets.get(userId)?.retryAfterSeconds() ?? 1;
  }

  private forgetIdle(): void {
    if (this.buckets.size < MAX_IDLE_BUCKETS) {
      return;
    }
    const now = Date.now();
    for (const [userId, bucket] of this.buckets) {
      if (bucket.full(now)) {
        this.buckets.delete(userId);
      }
    }
  }
}
