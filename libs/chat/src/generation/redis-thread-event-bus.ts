import type { RedisConnections } from '@app/common';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ThreadEventBus } from './thread-event-bus';
import type { InFlightReply, ThreadEvent } from './thread-events';

const EVENTS = 'confab:thread-events';
const STOPS = 'confab:generation-stop';
/** In-flight state outlives a crashed instance by at most this long. */
const INFLIGHT_TTL_MS = 60_000;
const metaKey = (threadId: string) => `confab:inflight:${threadId}:meta`;
const contentKey = (threadId: string) => `confab:inflight:${threadId}:content`;

interface Envelope {
  origin: string;
  event: ThreadEvent;
}

/**
 * The thread event channel across instances. Local listeners still get events synchronously; every event is also
 * published on one Redis channel, in the same MULTI as the in-flight state it changes, so a snapshot read on any
 * instance is exactly the state after some published event: a late joiner drops deltas up to the snapshot's `seq`
 * and misses none after it. If Redis is down, instances keep serving their own listeners and catch up when it returns.
 */
export class RedisThreadEventBus extends ThreadEventBus implements OnApplicationShutdown {
  private readonly logger = new Logger('ThreadEventBus');
  private readonly origin = randomUUID();
  private readonly pub: Redis;
  private readonly sub: Redis;
  private failing = false;
  override readonly distributed = true;

  constructor(redis: RedisConnections) {
    super();
    this.pub = redis.client;
    this.sub = redis.create('events-sub');
    void this.sub.subscribe(EVENTS, STOPS).catch((err: Error) => this.logger.warn(`subscribe failed: ${err.message}`));
    this.sub.on('message', (channel: string, raw: string) => this.onMessage(channel, raw));
  }

  override publish(event: ThreadEvent): void {
    this.track(event);
    this.deliver(event);
    const payload = JSON.stringify({ origin: this.origin, event } satisfies Envelope);
    const multi = this.pub.multi();
    switch (event.type) {
      case 'message:created':
        if (event.message.role === 'assistant' && event.message.status === 'streaming') {
          multi
            .del(contentKey(event.threadId))
            .hset(metaKey(event.threadId), 'messageId', event.message.id, 'seq', '0')
            .pexpire(metaKey(event.threadId), INFLIGHT_TTL_MS);
        }
        break;
      case 'message:delta':
        multi
          .hset(metaKey(event.threadId), 'seq', String(event.seq))
          .append(contentKey(event.threadId), event.delta)
          .pexpire(metaKey(event.threadId), INFLIGHT_TTL_MS)
          .pexpire(contentKey(event.threadId), INFLIGHT_TTL_MS);
        break;
      case 'message:done':
      case 'message:error':
      case 'thread:deleted':
        multi.del(metaKey(event.threadId), contentKey(event.threadId));
        break;
      case 'thread:updated':
        break;
    }
    multi.publish(EVENTS, payload);
    multi.exec().then(
      () => this.recovered(),
      (err: Error) => this.failed(err),
    );
  }

  override async snapshot(threadId: string): Promise<InFlightReply | null> {
    const local = this.localSnapshot(threadId);
    if (local) {
      return local;
    }
    try {
      const result = await this.pub.multi().hgetall(metaKey(threadId)).get(contentKey(threadId)).exec();
      const meta = result?.[0]?.[1] as Record<string, string> | undefined;
      const content = (result?.[1]?.[1] as string | null) ?? '';
      if (!meta?.messageId) {
        return null;
      }
      return { messageId: meta.messageId, seq: Number(meta.seq ?? 0), content };
    } catch (err) {
      this.failed(err as Error);
      return null;
    }
  }

  override async requestRemoteStop(threadId: string): Promise<boolean> {
    try {
      if (!(await this.pub.hget(metaKey(threadId), 'messageId'))) {
        return false;
      }
      await this.pub.publish(STOPS, threadId);
      return true;
    } catch (err) {
      this.failed(err as Error);
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.sub.disconnect();
  }

  private onMessage(channel: string, raw: string): void {
    if (channel === STOPS) {
      this.emitter.emit('stop', raw);
      return;
    }
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.origin !== this.origin) {
      this.deliver(envelope.event);
    }
  }

  private failed(err: Error): void {
    if (!this.failing) {
      this.failing = true;
      this.logger.warn(`Redis unavailable, serving local listeners only: ${err.message}`);
    }
  }

  private recovered(): void {
    if (this.failing) {
      this.failing = false;
      this.logger.log('Redis available again');
    }
  }
}
