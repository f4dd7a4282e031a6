import { Logger } from '@nestjs/common';
import { created, delta, reply as message } from '../../test/thread-event.fixtures';
import { ThreadEventBus } from './thread-event-bus';
import { messageIdOf, type ThreadEvent } from './thread-events';

describe(ThreadEventBus.name, () => {
  let bus: ThreadEventBus;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    bus = new ThreadEventBus();
  });

  describe('delivery', () => {
    it('should call every listener synchronously, in publish order, thread listeners only for their thread', () => {
      const all: string[] = [];
      const mine: string[] = [];
      bus.subscribe((e) => all.push(`${e.threadId}:${e.type}`));
      bus.subscribeThread('t1', (e) => mine.push(`${e.threadId}:${e.type}`));

      bus.publish(created('a1'));
      bus.publish({ type: 'thread:deleted', threadId: 't2' });
      bus.publish(delta('a1', 1, 'Hi'));

      expect(all).toEqual(['t1:message:created', 't2:thread:deleted', 't1:message:delta']);
      expect(mine).toEqual(['t1:message:created', 't1:message:delta']);
    });

    it('should stop calling a listener once unsubscribed, and forget a thread whose last listener left', () => {
      const seen: ThreadEvent[] = [];
      const offAll = bus.subscribe((e) => seen.push(e));
      const offThread = bus.subscribeThread('t1', (e) => seen.push(e));
      offAll();
      offThread();

      bus.publish(created('a1'));

      expect(seen).toEqual([]);
      expect((bus as unknown as { byThread: Map<string, unknown> }).byThread.size).toBe(0);
    });

    it('should keep delivering to the other listeners when one throws, and never throw to the publisher', () => {
      const seen: string[] = [];
      bus.subscribe(() => {
        throw new Error('listener bug');
      });
      bus.subscribeThread('t1', (e) => seen.push(e.type));

      expect(() => bus.publish(created('a1'))).not.toThrow();
      expect(seen).toEqual(['message:created']);
    });
  });

  describe('in-flight snapshot', () => {
    it('should track a streaming reply: content and reasoning apart, the last seq, a copy each time', () => {
      bus.publish(created('u1', { role: 'user', status: 'complete', content: 'question' }));
      expect(bus.localSnapshot('t1')).toBeNull();

      bus.publish(created('a1'));
      bus.publish(delta('a1', 1, 'thinking', 'reasoning'));
      bus.publish(delta('a1', 2, 'Hel'));
      bus.publish(delta('a1', 3, 'lo'));
      const snapshot = bus.localSnapshot('t1');
      snapshot!.content = 'changed by a caller';

      expect(bus.localSnapshot('t1')).toEqual({ messageId: 'a1', content: 'Hello', reasoning: 'thinking', seq: 3 });
    });

    it('should ignore deltas of another reply', () => {
      bus.publish(created('a1'));
      bus.publish(delta('a0', 7, 'stale'));

      expect(bus.localSnapshot('t1')).toEqual({ messageId: 'a1', content: '', seq: 0 });
    });

    it("should drop the reply at its end, but not when an older reply's end arrives after a newer one started", async () => {
      bus.publish(created('a1'));
      bus.publish(delta('a1', 1, 'one'));
      bus.publish({
        type: 'message:error',
        threadId: 't1',
        messageId: 'a0',
        error: { code: 'unavailable', message: 'x' },
      });
      expect(bus.localSnapshot('t1')?.messageId).toBe('a1');

      bus.publish({ type: 'message:done', threadId: 't1', message: message('a1', { status: 'complete' }) });
      expect(bus.localSnapshot('t1')).toBeNull();
      await expect(bus.snapshot('t1')).resolves.toBeNull();
    });

    it('should drop the reply when its thread is deleted', () => {
      bus.publish(created('a1'));
      bus.publish({ type: 'thread:deleted', threadId: 't1' });

      expect(bus.localSnapshot('t1')).toBeNull();
    });
  });

  it('should have no one else to ask for a stop in one process', async () => {
    bus.publish(created('a1'));

    await expect(bus.requestRemoteStop('t1')).resolves.toBe(false);
    expect(bus.distributed).toBe(false);
  });

  it('should name the message each message event is about, and none for thread events', () => {
    expect(messageIdOf(created('a1'))).toBe('a1');
    expect(messageIdOf(delta('a2', 1, 'x'))).toBe('a2');
    expect(messageIdOf({ type: 'message:done', threadId: 't1', message: message('a3') })).toBe('a3');
    expect(messageIdOf({ type: 'thread:deleted', threadId: 't1' })).toBeNull();
  });
});
