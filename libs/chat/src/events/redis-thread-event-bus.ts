import {
  type ConfabMetrics,
  hashTag,
  type RedisClient,
  type RedisConnections,
  RedisFanout,
  RedisTickBatch,
} from '@app/common';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RedisInFlight } from './redis-in-flight';
import { type ThreadChannels, ThreadChannelNames } from './redis-thread-channels';
import { ThreadEventBus } from './thread-event-bus';
import { type InFlightReply, messageIdOf, type ThreadEvent } from './thread-events';

/** A snapshot waits at most this long for its thread's subscription (Redis answering slowly, or going down). */
const SUBSCRIBE_WAIT_MS = 2_000;

/** A thread whose in-flight state in Redis may be wrong because a write failed: which reply it was about. */
interface Stale {
  /** null: the thread was deleted. */
  messageId: string | null;
}

/**
 * The thread event channel across instances. Local listeners still get events synchronously; every event is also
 * published on its thread's Redis channel, in the same MULTI as the in-flight state it changes (the channel and
 * the keys share the thread's hash tag: one cluster slot), so a snapshot read on any instance is exactly the state
 * after some published event: a follower joins the channel first, reads the snapshot once the subscription is in
 * place (`snapshot` waits for it), drops deltas up to the snapshot's `seq` and misses none after it. If Redis is
 * down, instances keep serving their own listeners; events published meanwhile do not reach the other instances,
 * but the in-flight state is rewritten whole once Redis answers again (a restarted Redis is empty, and appends made
 * after a lost one would leave a gap), so late joiners and remote stops work again. The events published in one
 * synchronous stretch (the deltas of every reply of an event-loop turn) go out together at its end, in publish order.
 */
export class RedisThreadEventBus extends ThreadEventBus implements OnApplicationShutdown {
  private readonly logger = new Logger('ThreadEventBus');
  private readonly pub: RedisClient;
  private readonly channels: ThreadChannels;
  private readonly names: ThreadChannelNames;
  /** Subscriptions of followed threads (`sharded`), settled once Redis confirmed them. */
  private readonly joined = new Map<string, Promise<void>>();
  /** A reply's two keys share the thread's hash tag: the MULTI and the script over both stay in one cluster slot. */
  private readonly state: RedisInFlight;
  private readonly fanout: RedisFanout;
  /** One MULTI per tick (in a cluster, one per thread and tick: a transaction stays in one slot). */
  private readonly batch: RedisTickBatch;
  private failing = false;
  /** Threads whose state in Redis is to be rewritten; an entry is replaced (a new object) on each new failure. */
  private readonly stale = new Map<string, Stale>();
  override readonly distributed = true;

  constructor(
    redis: RedisConnections,
    private readonly metrics?: ConfabMetrics,
    /** `pubsub: 'plain'`: per-thread channels on SUBSCRIBE/PUBLISH even where Redis has sharded pub/sub. */
    options: { channels?: ThreadChannels; pubsub?: 'auto' | 'plain' } = {},
  ) {
    super();
    this.channels = options.channels ?? 'sharded';
    this.names = new ThreadChannelNames(redis);
    this.state = new RedisInFlight(redis);
    this.pub = redis.client;
    this.batch = new RedisTickBatch(this.pub, redis.cluster);
    this.pub.on('ready', () => this.resync());
    this.fanout = new RedisFanout(redis, 'thread-events', {
      sharded: this.channels === 'sharded' && options.pubsub !== 'plain',
    });
    if (this.channels === 'single') {
      void this.fanout.join(this.names.all, (text, own) => this.receive(text, own));
      this.fanout.listen(this.names.allStops, (threadId) => this.emitter.emit('stop', threadId));
    }
  }

  override publish(event: ThreadEvent): void {
    const wasRunning = this.inFlight.has(event.threadId);
    this.track(event);
    this.deliver(event);
    if (this.channels === 'sharded' && wasRunning !== this.inFlight.has(event.threadId)) {
      this.followStops(event.threadId, !wasRunning);
    }
    // A thread's new title or settings go to every socket of its owner (the sidebar), wherever they are: on the
    // owner's channel, which every instance with a socket of theirs follows (the thread's followers are among them).
    const byOwner = this.channels === 'sharded' && event.type === 'thread:updated';
    // "<threadId or ownerId> <event JSON>" (framed with this instance's origin by the fan-out): a receiver counts and
    // skips its own events, or those nobody follows there, without parsing them.
    const text = `${byOwner ? event.ownerId : event.threadId} ${JSON.stringify(event)}`;
    const stale = this.stale.get(event.threadId);
    let reply: string | null | undefined; // the reply whose in-flight state this event changes; null: all of them
    const multi = this.batch.multi(hashTag(byOwner ? event.ownerId : event.threadId), (err) => {
      if (err) {
        this.failed(err);
        if (reply !== undefined) {
          this.stale.set(event.threadId, { messageId: reply });
        }
      } else {
        this.recovered();
        // Everything but an append writes the whole state: the thread is clean unless a later write failed.
        if (reply !== undefined && this.stale.get(event.threadId) === stale) {
          this.stale.delete(event.threadId);
        }
      }
    });
    switch (event.type) {
      case 'message:created':
        if (event.message.role === 'assistant' && event.message.status === 'streaming') {
          reply = event.message.id;
          this.writeInFlight(multi, event.threadId);
        }
        break;
      case 'message:delta':
        reply = event.messageId;
        if (stale) {
          this.writeInFlight(multi, event.threadId);
        } else {
          // Only the answer is kept for other instances' snapshots; the reasoning arrives whole with the reply.
          this.state.append(multi, event.threadId, event.seq, event.kind === 'reasoning' ? null : event.delta);
        }
        break;
      case 'message:done':
      case 'message:error':
        reply = messageIdOf(event);
        // Only this reply's state: the end of an interrupted reply is published (by the ReplySweeper) when a newer
        // reply of the thread may be streaming already.
        this.state.drop(multi, event.threadId, reply);
        break;
      case 'thread:deleted':
        reply = null;
        this.state.drop(multi, event.threadId, null);
        break;
      case 'thread:updated':
        break;
    }
    const channel = byOwner ? this.names.owner(event.ownerId) : this.channelOf(event.threadId);
    this.fanout.publishToMembers(multi, channel, text);
    if (event.type === 'thread:deleted' && this.channels === 'sharded') {
      // The instance running the thread's reply follows its stop channel, not necessarily its events.
      this.fanout.publishToMembers(multi, this.names.stops(event.threadId), event.threadId);
    }
  }

  override async snapshot(threadId: string): Promise<InFlightReply | null> {
    const local = this.localSnapshot(threadId);
    if (local) {
      return local;
    }
    // Read only once the thread's channel is subscribed: every event after the state read is then received. While
    // Redis is down the subscription waits for it, and the read would fail anyway: no wait then (nor past a bound).
    const joined = this.joined.get(threadId);
    if (joined && this.pub.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([joined, new Promise((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    try {
      this.batch.flush(); // what this instance published before is read back
      return await this.state.read(this.pub, threadId);
    } catch (err) {
      this.failed(err as Error);
      return null;
    }
  }

  override async requestRemoteStop(threadId: string): Promise<boolean> {
    try {
      this.batch.flush();
      if (!(await this.state.running(this.pub, threadId))) {
        return false;
      }
      if (this.channels === 'single') {
        await this.fanout.publish(this.names.allStops, threadId);
      } else {
        const multi = this.pub.multi();
        this.fanout.publishToMembers(multi, this.names.stops(threadId), threadId);
        await multi.exec();
      }
      return true;
    } catch (err) {
      this.failed(err as Error);
      return false;
    }
  }

  onApplicationShutdown(): void {
    this.batch.flush();
    this.fanout.close();
  }

  /** The in-flight reply of a generation running here, written whole (meta and content) into `multi`. */
  private writeInFlight(multi: ReturnType<RedisClient['multi']>, threadId: string): void {
    const reply = this.inFlight.get(threadId);
    if (reply) {
      this.state.write(multi, threadId, reply);
    }
  }

  /**
   * On every (re)connection: writes the state of the generations running here whole (Redis may have restarted
   * empty) and drops the state of replies whose end could not be written.
   */
  private resync(): void {
    for (const threadId of new Set([...this.inFlight.keys(), ...this.stale.keys()])) {
      const stale = this.stale.get(threadId);
      const multi = this.batch.multi(hashTag(threadId), (err) => {
        if (err) {
          this.failed(err);
        } else if (this.stale.get(threadId) === stale) {
          this.stale.delete(threadId);
        }
      });
      if (this.inFlight.has(threadId)) {
        this.writeInFlight(multi, threadId);
      } else if (stale) {
        this.state.drop(multi, threadId, stale.messageId);
      }
    }
  }

  /** `sharded`: joins the thread's channel while it has local followers. */
  protected override followed(threadId: string, following: boolean): void {
    if (this.channels !== 'sharded') {
      return;
    }
    if (following) {
      this.joined.set(
        threadId,
        this.fanout.join(this.names.events(threadId), (text, own) => this.receive(text, own)),
      );
    } else {
      this.joined.delete(threadId);
      this.fanout.leave(this.names.events(threadId));
    }
    this.metrics?.threadChannels.set(this.fanout.joined);
  }

  /** `sharded`: joins the user's channel (their threads' updates) while a socket of theirs is here. */
  protected override followedOwner(userId: string, following: boolean): void {
    if (this.channels !== 'sharded') {
      return;
    }
    if (following) {
      void this.fanout.join(this.names.owner(userId), (text, own) => this.receive(text, own, 'owner'));
    } else {
      this.fanout.leave(this.names.owner(userId));
    }
    this.metrics?.threadChannels.set(this.fanout.joined);
  }

  /** `sharded`: the instance running a thread's reply follows its stop requests (and deletions elsewhere). */
  private followStops(threadId: string, running: boolean): void {
    const channel = this.names.stops(threadId);
    if (running) {
      void this.fanout.join(channel, (_text, own) => {
        if (!own) {
          this.emitter.emit('stop', threadId);
        }
      });
    } else {
      this.fanout.leave(channel);
    }
    this.metrics?.threadChannels.set(this.fanout.joined);
  }

  private channelOf(threadId: string): string {
    return this.channels === 'single' ? this.names.all : this.names.events(threadId);
  }

  /** A thread event from Redis: its own come back too (counted, never delivered twice). */
  private receive(text: string, own: boolean, by: 'thread' | 'owner' = 'thread'): void {
    const space = text.indexOf(' ');
    const id = text.slice(0, space);
    const followed = by === 'owner' ? this.isOwnerFollowed(id) : this.isFollowed(id);
    this.metrics?.threadEventsReceived.inc({ followed: followed ? 'true' : 'false' });
    if (own || space < 0) {
      return;
    }
    let event: ThreadEvent;
    try {
      event = JSON.parse(text.slice(space + 1)) as ThreadEvent;
    } catch {
      return;
    }
    this.deliver(event);
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
