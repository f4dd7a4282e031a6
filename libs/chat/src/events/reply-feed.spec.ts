import { created, delta, done } from '../../test/thread-event.fixtures';
import { ReplyFeed } from './reply-feed';
import { ThreadEventBus } from './thread-event-bus';
import type { InFlightReply, ThreadEvent } from './thread-events';

/** What a relay shows: each event as `type[:seq]`. */
const label = (e: ThreadEvent) => (e.type === 'message:delta' ? `delta:${e.seq}` : e.type);

/**
 * A bus whose generations run in another process: its events arrive from outside (as Redis delivers them) and its
 * snapshot answers when the test says so, so that events can arrive before, while and after it is read.
 */
class RemoteBus extends ThreadEventBus {
  override readonly distributed = true;
  private remote: InFlightReply | null = null;
  private answer: (() => void) | null = null;

  /** An event published by the instance that runs the generation. */
  arrive(event: ThreadEvent): void {
    if (event.type === 'message:created') {
      this.remote = { messageId: event.message.id, content: '', seq: 0 };
    } else if (event.type === 'message:delta' && this.remote) {
      this.remote = { ...this.remote, content: this.remote.content + event.delta, seq: event.seq };
    } else if (event.type === 'message:done') {
      this.remote = null;
    }
    this.deliver(event);
  }

  /** The snapshot is taken now but answered only when `answerSnapshot()` is called. */
  override async snapshot(): Promise<InFlightReply | null> {
    const taken = this.remote ? { ...this.remote } : null;
    await new Promise<void>((resolve) => (this.answer = resolve));
    return taken;
  }

  answerSnapshot(): void {
    this.answer?.();
  }
}

describe(ReplyFeed.name, () => {
  describe('a reply generated in this process', () => {
    let bus: ThreadEventBus;

    beforeEach(() => {
      bus = new ThreadEventBus();
      bus.publish(created('a1'));
      bus.publish(delta('a1', 1, 'Hel'));
    });

    it('should read the snapshot here and relay only what comes after it, passing it at the next delta', async () => {
      const relayed: string[] = [];
      let passedAt = -1;
      const feed = new ReplyFeed(
        bus,
        't1',
        (e) => relayed.push(label(e)),
        () => (passedAt = relayed.length),
      );

      const snapshot = await feed.read();
      bus.publish(delta('a1', 2, 'lo')); // after the snapshot, before start: buffered
      feed.start();
      bus.publish(done('a1', 'Hello'));

      expect(snapshot).toEqual({ messageId: 'a1', content: 'Hel', seq: 1 });
      expect(feed.runsHere).toBe(true);
      expect(relayed).toEqual(['delta:2', 'message:done']);
      expect(passedAt).toBe(1);
    });

    it('should pass at once when nothing is streaming, relaying every event buffered meanwhile', async () => {
      bus.publish(done('a1', 'Hel'));
      const relayed: string[] = [];
      let passed = false;
      const feed = new ReplyFeed(
        bus,
        't1',
        (e) => relayed.push(label(e)),
        () => (passed = true),
      );

      await expect(feed.read()).resolves.toBeNull();
      bus.publish(created('a2'));
      feed.start();

      expect(feed.runsHere).toBe(false);
      expect(relayed).toEqual(['message:created']);
      expect(passed).toBe(true);
    });

    it('should relay nothing live once closed', async () => {
      const relayed: string[] = [];
      const feed = new ReplyFeed(bus, 't1', (e) => relayed.push(label(e)));
      await feed.read();
      feed.start();
      feed.close();
      bus.publish(delta('a1', 2, 'lo'));

      expect(relayed).toEqual([]);
    });
  });

  describe('a reply generated on another instance', () => {
    let bus: RemoteBus;

    beforeEach(() => {
      bus = new RemoteBus();
    });

    it('should drop the events before and while the snapshot is read that it holds, and relay those after', async () => {
      bus.arrive(created('a1'));
      const relayed: string[] = [];
      let passedAt = -1;
      const feed = new ReplyFeed(
        bus,
        't1',
        (e) => relayed.push(label(e)),
        () => (passedAt = relayed.length),
      );
      bus.arrive(delta('a1', 1, 'Hel')); // before the snapshot is taken: in it
      const reading = feed.read();
      bus.arrive(delta('a1', 2, 'lo')); // while it is on its way back: after it
      bus.answerSnapshot();
      const snapshot = await reading;
      bus.arrive(delta('a1', 3, '!')); // after it, before start
      feed.start();
      bus.arrive(done('a1', 'Hello!'));

      expect(snapshot).toEqual({ messageId: 'a1', content: 'Hel', seq: 1 });
      expect(feed.runsHere).toBe(false);
      expect(relayed).toEqual(['delta:2', 'delta:3', 'message:done']);
      expect(passedAt).toBe(1);
    });

    it("should relay other messages' events at once, and pass only at the snapshot reply's next event", async () => {
      bus.arrive(created('a1'));
      bus.arrive(delta('a1', 1, 'Hel'));
      const relayed: string[] = [];
      let passed = false;
      const feed = new ReplyFeed(
        bus,
        't1',
        (e) => relayed.push(label(e)),
        () => (passed = true),
      );
      const reading = feed.read();
      bus.answerSnapshot();
      await reading;
      feed.start();
      bus.arrive({ type: 'thread:updated', threadId: 't1', ownerId: 'u1', thread: {} as never });
      expect(passed).toBe(false);
      bus.arrive(delta('a1', 1, 'Hel')); // a repeat of what the snapshot holds changes nothing
      expect(passed).toBe(false);
      bus.arrive(delta('a1', 2, 'lo'));

      expect(relayed).toEqual(['thread:updated', 'delta:2']);
      expect(passed).toBe(true);
    });

    it('should relay the end of a run that ends during the hand-over, after handing over once', async () => {
      bus.arrive(created('a1'));
      bus.arrive(delta('a1', 1, 'Hel'));
      const relayed: string[] = [];
      const handovers: number[] = [];
      const feed = new ReplyFeed(
        bus,
        't1',
        (e) => relayed.push(label(e)),
        () => {
          handovers.push(relayed.length);
          feed.close(); // as the gateway does: the room takes over from here
        },
      );
      const reading = feed.read();
      bus.answerSnapshot();
      await reading;
      bus.arrive(delta('a1', 2, 'lo'));
      bus.arrive(done('a1', 'Hello'));
      feed.start();
      bus.arrive(created('a2')); // live after the hand-over: for the room, not this feed

      expect(relayed).toEqual(['delta:2', 'message:done']);
      expect(handovers).toEqual([1]);
    });

    it('should relay the whole end when the run ended before the snapshot was taken', async () => {
      bus.arrive(created('a1'));
      const relayed: string[] = [];
      const feed = new ReplyFeed(bus, 't1', (e) => relayed.push(label(e)));
      bus.arrive(delta('a1', 1, 'Hello'));
      bus.arrive(done('a1', 'Hello'));
      const reading = feed.read();
      bus.answerSnapshot();

      await expect(reading).resolves.toBeNull();
      feed.start();
      expect(relayed).toEqual(['delta:1', 'message:done']);
    });
  });
});
