import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { InFlightReply, ThreadEvent } from './thread-events';

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

  /** Listens to every thread's events; returns the unsubscribe function. */
  subscribe(listener: ThreadEventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
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
    switch (event.type) {
      case 'message:created':
        if (event.message.role === 'assistant' && event.message.status === 'streaming') {
          this.inFlight.set(event.threadId, { messageId: event.message.id, content: event.message.content, seq: 0 });
        }
        break;
      case 'message:delta': {
        const reply = this.inFlight.get(event.threadId);
        if (reply && reply.messageId === event.messageId) {
          reply.content += event.delta;
          reply.seq = event.seq;
        }
        break;
      }
      case 'message:done':
      case 'message:error': {
        const id = event.type === 'message:done' ? event.message.id : event.messageId;
        if (this.inFlight.get(event.threadId)?.messageId === id) {
          this.inFlight.delete(event.threadId);
        }
        break;
      }
      case 'thread:deleted':
        this.inFlight.delete(event.threadId);
        break;
      case 'thread:updated':
        break;
    }
  }

  protected deliver(event: ThreadEvent): void {
    this.emitter.emit('event', event);
  }
}
