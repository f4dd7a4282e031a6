import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { RedisClient, RedisConnections } from './redis.module';

/** A handler of a joined channel: `own` is true for a message this process published itself. */
export type MemberHandler = (text: string, own: boolean) => void;

interface Membership {
  /** Joins not yet left: the channel is subscribed while this is above 0. */
  count: number;
  handler: MemberHandler;
  /** Settles once Redis has confirmed the subscription (or refused it: the failure is logged). */
  ready: Promise<void>;
}

/**
 * Messages instances send each other over Redis pub/sub: the building block of the account events and the thread
 * event bus. Each message is framed `<origin> <text>` so that an instance skips its own without parsing them (its
 * publisher has already delivered them locally, in order). One subscriber connection per fan-out; ioredis renews
 * its subscriptions after a reconnect. Only made when REDIS_URL is set.
 *
 * Two kinds of channel:
 * - `listen`: subscribed for the life of the process, plain PUBLISH: every instance gets every message (rare
 *   events every instance must act on, such as revocations).
 * - `join`/`leave`: subscribed only while something here needs the channel (counted: n joins need n leaves). With
 *   `sharded`, these use Redis 7 sharded pub/sub (SSUBSCRIBE/SPUBLISH), where a message only travels to the cluster
 *   node owning the channel's slot and from there to its subscribers, not to every node; on an older Redis, plain
 *   SUBSCRIBE/PUBLISH. All instances talk to the same Redis, so they agree on which.
 */
export class RedisFanout {
  private readonly logger: Logger;
  /** This process, as named in the frames it publishes. */
  readonly origin = randomUUID();
  private readonly subscriber: RedisClient;
  private readonly handlers = new Map<string, (text: string) => void>();
  private readonly members = new Map<string, Membership>();
  /** Whether joined channels use sharded pub/sub; undefined until Redis has told (commands wait in `queued`). */
  private sharded: boolean | undefined;
  private queued: ((sharded: boolean) => void)[] = [];

  constructor(
    private readonly redis: RedisConnections,
    name: string,
    options: { sharded?: boolean } = {},
  ) {
    this.logger = new Logger(`RedisFanout:${name}`);
    this.subscriber = redis.create(name, { subscriber: true, sharded: options.sharded === true });
    this.subscriber.on('message', (channel: string, frame: string) => this.receive(channel, frame));
    this.subscriber.on('smessage', (channel: string, frame: string) => this.receive(channel, frame));
    if (options.sharded === true) {
      this.detectShardedPubSub();
    } else {
      this.sharded = false;
    }
  }

  /** Whether joined channels travel on sharded pub/sub (undefined while not known yet). */
  get usesShardedPubSub(): boolean | undefined {
    return this.sharded;
  }

  /** Calls `handler` with the text of every message another instance publishes on `channel`. */
  listen(channel: string, handler: (text: string) => void): void {
    this.handlers.set(channel, handler);
    this.subscriber.subscribe(channel).catch((err: Error) => {
      this.logger.warn(`Cannot subscribe to ${channel}: ${err.message}`);
    });
  }

  /**
   * Subscribes to `channel` (the first join) until as many `leave`s; resolves once the subscription is in place,
   * so a caller that reads shared state after it misses no message published after that read.
   */
  join(channel: string, handler: MemberHandler): Promise<void> {
    const member = this.members.get(channel);
    if (member) {
      member.count += 1;
      return member.ready;
    }
    let settle!: () => void;
    const ready = new Promise<void>((resolve) => (settle = resolve));
    this.members.set(channel, { count: 1, handler, ready });
    this.inOrder((sharded) => {
      (sharded ? this.subscriber.ssubscribe(channel) : this.subscriber.subscribe(channel)).then(
        () => settle(),
        (err: Error) => {
          this.logger.warn(`Cannot subscribe to ${channel}: ${err.message}`);
          settle();
        },
      );
    });
    return ready;
  }

  leave(channel: string): void {
    const member = this.members.get(channel);
    if (!member || --member.count > 0) {
      return;
    }
    this.members.delete(channel);
    this.inOrder((sharded) => {
      (sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel)).catch((err: Error) => {
        this.logger.warn(`Cannot unsubscribe from ${channel}: ${err.message}`);
      });
    });
  }

  /** Channels joined right now. */
  get joined(): number {
    return this.members.size;
  }

  /** The frame to publish for `text`, for a caller that publishes inside a MULTI of its own. */
  frame(text: string): string {
    return `${this.origin} ${text}`;
  }

  /** Publishes on the shared command connection; rejects while Redis is down (the caller decides what that means). */
  async publish(channel: string, text: string): Promise<void> {
    await this.redis.client.publish(channel, this.frame(text));
  }

  /**
   * Adds the publication of `text` on a joinable channel to `multi` (SPUBLISH is keyed by its channel, so in a
   * cluster it belongs in the MULTI of keys sharing the channel's hash tag).
   */
  publishToMembers(multi: ReturnType<RedisClient['multi']>, channel: string, text: string): void {
    // Not known yet only while Redis has not answered since the start: sharded is then the likely answer (7+).
    if (this.sharded ?? true) {
      multi.spublish(channel, this.frame(text));
    } else {
      multi.publish(channel, this.frame(text));
    }
  }

  close(): void {
    this.subscriber.disconnect();
  }

  /**
   * Runs subscription changes in call order, once it is known which commands to use, at the end of the tick: as
   * publications in a RedisTickBatch do, so Redis gets this process's publications and subscription changes in
   * the order they were made (a channel joined after a publication does not receive it).
   */
  private inOrder(command: (sharded: boolean) => void): void {
    if (this.sharded === undefined) {
      this.queued.push(command);
    } else {
      const sharded = this.sharded;
      process.nextTick(() => command(sharded));
    }
  }

  /** Asks Redis (on each connection until it answers) whether it has SPUBLISH, then runs the queued commands. */
  private detectShardedPubSub(): void {
    const client = this.redis.client;
    const ask = () => {
      client.call('COMMAND', 'INFO', 'SPUBLISH').then(
        (info) => {
          client.off('ready', ask);
          const known = Array.isArray(info) && info[0] !== null && info[0] !== undefined;
          this.settleSharded(known);
        },
        (err: Error) => {
          // A Redis that refuses COMMAND (some managed services): a cluster there is Redis 7+ (ElastiCache Serverless).
          if (!/connection|closed|ready|writable/i.test(err.message)) {
            client.off('ready', ask);
            this.settleSharded(this.redis.cluster);
          }
        },
      );
    };
    client.on('ready', ask);
    if (client.status === 'ready') {
      ask();
    }
  }

  private settleSharded(sharded: boolean): void {
    if (this.sharded !== undefined) {
      return;
    }
    this.sharded = sharded;
    this.logger.debug(`Joined channels use ${sharded ? 'sharded pub/sub (SSUBSCRIBE)' : 'plain pub/sub'}`);
    const queued = this.queued;
    this.queued = [];
    queued.forEach((command) => command(sharded));
  }

  private receive(channel: string, frame: string): void {
    const space = frame.indexOf(' ');
    if (space < 0) {
      return;
    }
    const own = frame.slice(0, space) === this.origin;
    const member = this.members.get(channel);
    if (member) {
      member.handler(frame.slice(space + 1), own);
      return;
    }
    const handler = this.handlers.get(channel);
    if (handler && !own) {
      handler(frame.slice(space + 1));
    }
  }
}
