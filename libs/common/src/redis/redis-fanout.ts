import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RedisClient, RedisConnections } from './redis.module';

/**
 * Messages every instance sends to all the others over Redis pub/sub: the building block of the account events and
 * the thread event bus. Each message is framed `<origin> <text>` so that an instance skips its own without parsing
 * them (its publisher has already delivered them locally, in order). One subscriber connection per fan-out; ioredis
 * renews its subscriptions after a reconnect. Only made when REDIS_URL is set.
 */
export class RedisFanout {
  private readonly logger: Logger;
  /** This process, as named in the frames it publishes. */
  readonly origin = randomUUID();
  private readonly subscriber: RedisClient;
  private readonly handlers = new Map<string, (text: string) => void>();

  constructor(
    private readonly redis: RedisConnections,
    name: string,
  ) {
    this.logger = new Logger(`RedisFanout:${name}`);
    this.subscriber = redis.create(name, { subscriber: true });
    this.subscriber.on('message', (channel: string, frame: string) => this.receive(channel, frame));
  }

  /** Calls `handler` with the text of every message another instance publishes on `channel`. */
  listen(channel: string, handler: (text: string) => void): void {
    this.handlers.set(channel, handler);
    this.subscriber.subscribe(channel).catch((err: Error) => {
      this.logger.warn(`Cannot subscribe to ${channel}: ${err.message}`);
    });
  }

  /** The frame to publish for `text`, for a caller that publishes inside a MULTI of its own. */
  frame(text: string): string {
    return `${this.origin} ${text}`;
  }

  /** Publishes on the shared command connection; rejects while Redis is down (the caller decides what that means). */
  async publish(channel: string, text: string): Promise<void> {
    await this.redis.client.publish(channel, this.frame(text));
  }

  close(): void {
    this.subscriber.disconnect();
  }

  private receive(channel: string, frame: string): void {
    const handler = this.handlers.get(channel);
    const space = frame.indexOf(' ');
    if (!handler || space < 0 || frame.slice(0, space) === this.origin) {
      return;
    }
    handler(frame.slice(space + 1));
  }
}
