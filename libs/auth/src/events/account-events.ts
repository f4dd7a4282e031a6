import { RedisConnections, RedisFanout } from '@app/common';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/**
 * What happened to an account that every instance must act on at once:
 * - `revoked`: these sessions (or all of the user's) ended: logout, token reuse, password change, user disabled
 *   or deleted. Caches drop them; the gateway disconnects the matching sockets.
 * - `changed`: the user's role changed; caches drop the user so the next request sees the new role.
 */
export type AccountEvent =
  { type: 'revoked'; userId: string; sessionIds: string[] | 'all' } | { type: 'changed'; userId: string };

export type AccountEventListener = (event: AccountEvent) => void;

const CHANNEL = 'account-events';
const EVENT = 'account';

function isAccountEvent(value: unknown): value is AccountEvent {
  const event = value as Partial<Record<string, unknown>> | null;
  if (typeof event !== 'object' || event === null || typeof event.userId !== 'string') {
    return false;
  }
  if (event.type === 'changed') {
    return true;
  }
  return (
    event.type === 'revoked' &&
    (event.sessionIds === 'all' ||
      (Array.isArray(event.sessionIds) && event.sessionIds.every((id) => typeof id === 'string')))
  );
}

/**
 * The account event bus. Events are delivered to this instance's listeners synchronously (so a cache is clean
 * before the request that caused the event answers) and, when REDIS_URL is set, published to every other
 * instance, whose listeners get them as if emitted there.
 */
@Injectable()
export class AccountEvents implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AccountEvents.name);
  private readonly emitter = new EventEmitter();
  private fanout?: RedisFanout;

  constructor(private readonly redis: RedisConnections) {
    // One listener per cache or gateway: the default cap of 10 would warn for no reason.
    this.emitter.setMaxListeners(0);
  }

  onModuleInit(): void {
    if (!this.redis.enabled) {
      return;
    }
    this.fanout = new RedisFanout(this.redis, 'account-events');
    this.fanout.listen(this.redis.key(CHANNEL), (text) => this.receive(text));
  }

  onApplicationShutdown(): void {
    this.emitter.removeAllListeners();
  }

  /** Registers a listener; returns the function that removes it. A throwing listener is logged, never propagated. */
  on(listener: AccountEventListener): () => void {
    const safe = (event: AccountEvent) => {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err }, 'Account event listener failed');
      }
    };
    this.emitter.on(EVENT, safe);
    return () => this.emitter.off(EVENT, safe);
  }

  /** Delivers locally at once, then to the other instances (best effort: a Redis outage is logged, not thrown). */
  async publish(event: AccountEvent): Promise<void> {
    this.emitter.emit(EVENT, event);
    if (!this.fanout) {
      return;
    }
    try {
      await this.fanout.publish(this.redis.key(CHANNEL), JSON.stringify(event));
    } catch (err) {
      this.logger.warn(`Cannot publish an account event to other instances: ${(err as Error).message}`);
    }
  }

  /** An event from another instance (this one's own are skipped by the fan-out). */
  private receive(text: string): void {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (isAccountEvent(event)) {
      this.emitter.emit(EVENT, event);
    }
  }
}
