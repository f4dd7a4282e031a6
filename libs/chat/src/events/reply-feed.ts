import type { ThreadEventBus } from './thread-event-bus';
import { type InFlightReply, messageIdOf, type ThreadEvent } from './thread-events';

/**
 * A thread's events from where its in-flight reply has got, with no gap and no duplicate: what a late joiner (a
 * socket joining a room, an SSE response, a retry) relays. The one resume of both transports:
 * 1. `new ReplyFeed(...)` subscribes at once and buffers what arrives;
 * 2. `read()` takes the snapshot: from this process when the reply is generated here (in the same turn as nothing
 *    can be published in between), else from the bus (Redis), while events keep being buffered;
 * 3. `start()` relays the buffer, then every event as it comes, dropping what the snapshot already holds (the
 *    reply's `message:created` and its deltas up to the snapshot's `seq`).
 * Events of one generation arrive in publish order, so once an event of the snapshot's reply beyond it has been
 * relayed (or its end), the feed has passed the snapshot: `onPassed` runs once, and a caller may hand over to
 * another stream of the same events (the gateway: the thread's room), closing the feed. Without a snapshot the feed
 * has passed it as soon as the buffer is relayed.
 */
export class ReplyFeed {
  private buffer: ThreadEvent[] | null = [];
  private snapshot: InFlightReply | null = null;
  private local = false;
  private passed = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly bus: ThreadEventBus,
    readonly threadId: string,
    private readonly onEvent: (event: ThreadEvent) => void,
    private readonly onPassed: () => void = () => undefined,
  ) {
    this.unsubscribe = bus.subscribeThread(threadId, (event) => this.receive(event));
  }

  /** True when the snapshot read came from a generation running in this process. */
  get runsHere(): boolean {
    return this.local;
  }

  /** Reads where the thread's in-flight reply has got (null: none is streaming, as far as the bus knows). */
  async read(): Promise<InFlightReply | null> {
    const local = this.bus.localSnapshot(this.threadId);
    this.local = local !== null;
    this.snapshot = local ?? (this.bus.distributed ? await this.bus.snapshot(this.threadId) : null);
    return this.snapshot;
  }

  /** Relays the events buffered since the subscription (all of them, even if `onPassed` closes the feed), then live. */
  start(): void {
    const buffered = this.buffer ?? [];
    this.buffer = null;
    buffered.forEach((event) => this.relay(event));
    if (!this.snapshot) {
      this.pass();
    }
  }

  /** Stops listening (events already buffered are still relayed by `start`). */
  close(): void {
    this.unsubscribe();
  }

  private receive(event: ThreadEvent): void {
    if (this.buffer) {
      this.buffer.push(event);
    } else {
      this.relay(event);
    }
  }

  private relay(event: ThreadEvent): void {
    const snapshot = this.snapshot;
    if (!snapshot || this.passed || messageIdOf(event) !== snapshot.messageId) {
      this.onEvent(event);
      return;
    }
    if (event.type === 'message:created' || (event.type === 'message:delta' && event.seq <= snapshot.seq)) {
      return; // already in the snapshot
    }
    this.onEvent(event);
    this.pass();
  }

  private pass(): void {
    if (!this.passed) {
      this.passed = true;
      this.onPassed();
    }
  }
}
