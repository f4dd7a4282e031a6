import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { endsReply, type InFlightReply, messageIdOf, type ThreadEvent } from './thread-events';

export type ThreadEventListener = (event: ThreadEvent) => void;

/**
 * The channel every thread event goes through. The pipeline publishes; SSE responses and the gateway only relay.
 * It also keeps each thread's in-flight reply (content so far and last `seq`), updated in the same step as the
 * delta is published, so a late joiner's snapshot and the event stream never disagree.
 *
 * Local listeners are called synchronously, in publish order. The Redis implementation (scale-out) extends this
 * so that events and snapshots reach every instance.
 */
@Injectable()
export class ThreadEventBus {
  protected readonly emitter = new EventEmitter();
  protected readonly inFlight = new Map<string, InFlightReply>();
  private readonly everything = new Set<ThreadEventListener>();
  private readonly byThread = new Map<string, Set<ThreadEventListener>>();
  /** Local followers of each thread (sockets' rooms, pending joins, SSE responses, waiting requests). */
  private readonly followers = new Map<string, number>();
  /** Local followers of each user's thread updates (the user's sockets). */
  private readonly ownerFollowers = new Map<string, number>();
  private readonly busLogger = new Logger('ThreadEventBus');
  /** True when generations may run in other processes (events and snapshots cross instances). */
  readonly distributed: boolean = false;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Publishes an event of a generation running in this process. */
  publish(event: ThreadEvent): void {
    this.track(event);
    this.deliver(event);
  }

  /** Listens to every thread's events (the gateway); returns the unsubscribe function. */
  subscribe(listener: ThreadEventListener): () => void {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  /**
   * Listens to one thread's events (an SSE response, a waiting request): cost per event stays O(its listeners).
   * The thread is followed meanwhile (see `follow`).
   */
  subscribeThread(threadId: string, listener: ThreadEventListener): () => void {
    let listeners = this.byThread.get(threadId);
    if (!listeners) {
      listeners = new Set();
      this.byThread.set(threadId, listeners);
    }
    listeners.add(listener);
    const unfollow = this.follow(threadId);
    return () => {
      listeners.delete(listener);
      unfollow();
      if (listeners.size === 0 && this.byThread.get(threadId) === listeners) {
        this.byThread.delete(threadId);
      }
    };
  }

  /**
   * Declares that something here follows the thread (a socket in its room, a join waiting for its snapshot), so
   * that events generated on other instances reach this one; returns the function that ends it (idempotent).
   * Without Redis every event is local and this only counts.
   */
  follow(threadId: string): () => void {
    return this.count(this.followers, threadId, (following) => this.followed(threadId, following));
  }

  /**
   * Declares that something here follows every thread update of a user (a socket of theirs: the sidebar shows all
   * their threads), so that `thread:updated` events published elsewhere reach this instance; returns the end.
   */
  followOwner(userId: string): () => void {
    return this.count(this.ownerFollowers, userId, (following) => this.followedOwner(userId, following));
  }

  /** True while something here follows the thread. */
  isFollowed(threadId: string): boolean {
    return this.followers.has(threadId);
  }

  /** True while something here follows the user's thread updates. */
  isOwnerFollowed(userId: string): boolean {
    return this.ownerFollowers.has(userId);
  }

  /** Called when the thread gets its first local follower (`true`) or loses its last one (`false`). */
  protected followed(threadId: string, following: boolean): void {
    void threadId;
    void following;
  }

  /** Called when the user's thread updates get their first local follower (`true`) or lose their last one. */
  protected followedOwner(userId: string, following: boolean): void {
    void userId;
    void following;
  }

  /** Counts one follower of `id`; `changed` runs on the first and after the last; the returned end is idempotent. */
  private count(counts: Map<string, number>, id: string, changed: (following: boolean) => void): () => void {
    const count = (counts.get(id) ?? 0) + 1;
    counts.set(id, count);
    if (count === 1) {
      changed(true);
    }
    let done = false;
    return () => {
      if (done) {
        return;
      }
      done = true;
      const left = (counts.get(id) ?? 1) - 1;
      if (left > 0) {
        counts.set(id, left);
      } else {
        counts.delete(id);
        changed(false);
      }
    };
  }

  /** The in-flight reply of a generation running in this process, if any. */
  localSnapshot(threadId: string): InFlightReply | null {
    const reply = this.inFlight.get(threadId);
    return reply ? { ...reply } : null;
  }

  /** The in-flight reply of the thread wherever it runs (this process only, without Redis). */
  async snapshot(threadId: string): Promise<InFlightReply | null> {
    return this.localSnapshot(threadId);
  }

  /**
   * Asks the instance that runs the thread's generation to stop it. Without Redis every generation is local, so
   * there is no one else to ask; the Redis bus publishes the request.
   */
  async requestRemoteStop(threadId: string): Promise<boolean> {
    void threadId;
    return false;
  }

  /** Listens to stop requests from other instances. */
  onRemoteStop(listener: (threadId: string) => void): () => void {
    this.emitter.on('stop', listener);
    return () => this.emitter.off('stop', listener);
  }

  protected track(event: ThreadEvent): void {
    if (event.type === 'message:created') {
      if (event.message.role === 'assistant' && event.message.status === 'streaming') {
        this.inFlight.set(event.threadId, { messageId: event.message.id, content: event.message.content, seq: 0 });
      }
    } else if (event.type === 'message:delta') {
      const reply = this.inFlight.get(event.threadId);
      if (reply && reply.messageId === event.messageId) {
        if (event.kind === 'reasoning') {
          reply.reasoning = (reply.reasoning ?? '') + event.delta;
        } else {
          reply.content += event.delta;
        }
        reply.seq = event.seq;
      }
    } else if (endsReply(event)) {
      if (this.inFlight.get(event.threadId)?.messageId === messageIdOf(event)) {
        this.inFlight.delete(event.threadId);
      }
    } else if (event.type === 'thread:deleted') {
      this.inFlight.delete(event.threadId);
    }
  }

  /** Calls every listener of the event; one that throws is logged and never stops the others or the publisher. */
  protected deliver(event: ThreadEvent): void {
    const threadListeners = this.byThread.get(event.threadId);
    for (const listeners of threadListeners ? [this.everything, threadListeners] : [this.everything]) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (err) {
          this.busLogger.error({ err }, 'thread event listener failed');
        }
      }
    }
  }
}
