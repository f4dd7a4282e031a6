import { consume, EventChannel } from './event-channel';

/** A channel whose producer is driven by the test: `started` tells when the first read started it. */
function channel() {
  const state = { started: 0, drains: 0, leaves: 0 };
  const ch = new EventChannel<number>(() => (state.started += 1));
  ch.onDrain = () => (state.drains += 1);
  ch.onLeave = () => (state.leaves += 1);
  return { ch, state };
}

async function readAll(ch: EventChannel<number>): Promise<number[]> {
  const seen: number[] = [];
  for await (const n of ch) {
    seen.push(n);
  }
  return seen;
}

describe(EventChannel.name, () => {
  it('should start its producer on the first read, once', async () => {
    const { ch, state } = channel();
    expect(state.started).toBe(0);

    const first = ch.next();
    void ch.next();
    ch.push(1);
    ch.push(2);

    expect(state.started).toBe(1);
    await expect(first).resolves.toEqual({ value: 1, done: false });
  });

  it('should deliver pushes in order, those queued ahead of the reader and those it waited for', async () => {
    const { ch, state } = channel();
    const reading = readAll(ch);
    ch.push(1); // the reader waits: resolves its read directly
    ch.push(2);
    ch.push(3); // queued
    expect(ch.backlog).toBe(2);
    await Promise.resolve();
    ch.push(4);
    ch.end();
    ch.push(5); // after the end: dropped

    await expect(reading).resolves.toEqual([1, 2, 3, 4]);
    expect(ch.backlog).toBe(0);
    expect(state.drains).toBeGreaterThan(0);
    expect(state.leaves).toBe(0);
  });

  it('should hand over the queued events before a failure, then the failure once, then the end', async () => {
    const { ch } = channel();
    void ch.next().catch(() => undefined);
    ch.push(0);
    ch.push(1);
    ch.fail(new Error('upstream broke'));

    await expect(ch.next()).resolves.toEqual({ value: 1, done: false });
    await expect(ch.next()).rejects.toThrow('upstream broke');
    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should drop the queued events when failed with dropQueued (a stop)', async () => {
    const { ch } = channel();
    void ch.next();
    ch.push(1);
    ch.push(2);
    ch.fail(Object.assign(new Error('stopped'), { name: 'AbortError' }), true);

    await expect(ch.next()).rejects.toMatchObject({ name: 'AbortError' });
    expect(ch.backlog).toBe(0);
  });

  it('should give nothing queued after its stop signal aborted, even after the end: the stop error, then the end', async () => {
    const stop = new AbortController();
    const ch = new EventChannel<number>(() => undefined, {
      signal: stop.signal,
      error: () => Object.assign(new Error('stopped'), { name: 'AbortError' }),
    });
    void ch.next();
    ch.push(1);
    ch.push(2);
    ch.push(3);
    ch.end();
    await expect(ch.next()).resolves.toEqual({ value: 2, done: false });

    stop.abort();

    await expect(ch.next()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
    expect(ch.backlog).toBe(0);
  });

  it('should end as usual after a stop once everything was read', async () => {
    const stop = new AbortController();
    const ch = new EventChannel<number>(() => undefined, { signal: stop.signal, error: () => new Error('stopped') });
    void ch.next();
    ch.push(1);
    ch.end();
    stop.abort();

    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should reject a waiting read when it fails', async () => {
    const { ch } = channel();
    const waiting = ch.next();
    ch.fail(new Error('no route'));

    await expect(waiting).rejects.toThrow('no route');
  });

  it('should tell its producer once when the reader leaves early, and drop what comes after', async () => {
    const { ch, state } = channel();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const n of ch) {
        seen.push(n);
        if (n === 2) {
          break;
        }
      }
    })();
    ch.push(1);
    await Promise.resolve();
    ch.push(2);
    ch.push(3);
    await reading;
    ch.push(4);
    await ch.return();

    expect(seen).toEqual([1, 2]);
    expect(state.leaves).toBe(1);
    expect(ch.abandoned).toBe(true);
    expect(ch.backlog).toBe(0);
    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should never start its producer once the reader left, not even on a later read', async () => {
    const { ch, state } = channel();
    await ch.return();

    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
    expect(state.started).toBe(0);
  });

  it('should give nothing after return, not even events queued before the end or a failure', async () => {
    const ended = channel().ch;
    void ended.next();
    ended.push(1);
    ended.push(2);
    ended.end();
    await ended.return();
    await expect(ended.next()).resolves.toEqual({ value: undefined, done: true });

    const failed = channel().ch;
    void failed.next();
    failed.push(1);
    failed.push(2);
    failed.fail(new Error('upstream broke'));
    await failed.return();
    await expect(failed.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should fail the first of several waiting reads and end the others, the failure given once', async () => {
    const { ch } = channel();
    const first = ch.next();
    const second = ch.next();
    ch.fail(new Error('no route'));

    await expect(first).rejects.toThrow('no route');
    await expect(second).resolves.toEqual({ value: undefined, done: true });
    await expect(ch.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should not call onLeave when the reader returns after the end', async () => {
    const { ch, state } = channel();
    void ch.next();
    ch.push(1);
    ch.end();
    await ch.return();

    expect(state.leaves).toBe(0);
    expect(ch.abandoned).toBe(false);
  });

  describe('listen', () => {
    it('should start the producer, hand over the queued events first, then each push synchronously, in order', async () => {
      const { ch, state } = channel();
      void ch.next().then(() => undefined); // the first read starts the producer and takes 0
      ch.push(0);
      ch.push(1);
      ch.push(2); // queued ahead of the listener
      await Promise.resolve();
      const seen: number[] = [];

      const listening = ch.listen((n) => void seen.push(n));
      expect(seen).toEqual([1, 2]);
      ch.push(3);
      expect(seen).toEqual([1, 2, 3]); // no promise in between: taken during the push
      ch.end();
      ch.push(4);

      await expect(listening).resolves.toBeUndefined();
      expect(seen).toEqual([1, 2, 3]);
      expect(state.started).toBe(1);
      expect(ch.backlog).toBe(0);
    });

    it('should tell a producer paused for its backlog to go on once the listener has taken the queue', () => {
      const { ch, state } = channel();
      void ch.next();
      ch.push(0);
      ch.push(1);
      const drains = state.drains;

      void ch.listen(() => undefined);

      expect(ch.backlog).toBe(0);
      expect(state.drains).toBe(drains + 1);
    });

    it('should reject with the failure after the events before it, and with a stop error at once', async () => {
      const { ch } = channel();
      const seen: number[] = [];
      const listening = ch.listen((n) => void seen.push(n));
      ch.push(1);
      ch.fail(new Error('upstream broke'));
      await expect(listening).rejects.toThrow('upstream broke');
      expect(seen).toEqual([1]);

      const stop = new AbortController();
      const stopped = new EventChannel<number>(() => undefined, {
        signal: stop.signal,
        error: () => Object.assign(new Error('stopped'), { name: 'AbortError' }),
      });
      void stopped.next();
      stopped.push(1);
      stopped.push(2);
      stopped.end();
      stop.abort();
      const late: number[] = [];
      await expect(stopped.listen((n) => void late.push(n))).rejects.toMatchObject({ name: 'AbortError' });
      expect(late).toEqual([]); // queued before the stop, not delivered after it
    });

    it('should leave when the listener returns false or throws: the producer told once, later pushes dropped', async () => {
      const { ch, state } = channel();
      const seen: number[] = [];
      const listening = ch.listen((n) => {
        seen.push(n);
        return n < 2;
      });
      ch.push(1);
      ch.push(2);
      ch.push(3);
      await expect(listening).resolves.toBeUndefined();
      expect(seen).toEqual([1, 2]);
      expect(state.leaves).toBe(1);
      expect(ch.abandoned).toBe(true);

      const broken = channel();
      const failing = broken.ch.listen(() => {
        throw new Error('listener broke');
      });
      broken.ch.push(1);
      await expect(failing).rejects.toThrow('listener broke');
      expect(broken.state.leaves).toBe(1);
    });
  });

  it('should keep the order when the listener itself causes a push, while taking the queue or a push', async () => {
    const { ch } = channel();
    void ch.next();
    ch.push(0);
    ch.push(1);
    ch.push(2);
    const seen: number[] = [];

    void ch.listen((n) => {
      seen.push(n);
      if (n === 1 || n === 3) {
        ch.push(n * 10);
      }
    });
    ch.push(3);

    expect(seen).toEqual([1, 2, 10, 3, 30]);
  });

  describe('consume', () => {
    async function* generated(values: number[], closed: { done: boolean }) {
      try {
        yield* values;
      } finally {
        closed.done = true;
      }
    }

    it('should listen to a channel, and iterate any other async iterable with the semantics of for await', async () => {
      const { ch } = channel();
      const fromChannel: number[] = [];
      const consuming = consume(ch, (n) => void fromChannel.push(n));
      ch.push(1);
      expect(fromChannel).toEqual([1]);
      ch.end();
      await consuming;

      const closed = { done: false };
      const fromGenerator: number[] = [];
      await consume(generated([1, 2, 3, 4], closed), (n) => {
        fromGenerator.push(n);
        return n < 3;
      });
      expect(fromGenerator).toEqual([1, 2, 3]);
      expect(closed.done).toBe(true); // stopping early returned the iterator, as a break does

      const failingReturn = {
        [Symbol.asyncIterator]: () => ({
          next: async () => ({ value: 1, done: false }),
          return: async () => Promise.reject(new Error('return broke')),
        }),
      };
      await expect(
        consume(failingReturn, () => {
          throw new Error('listener broke');
        }),
      ).rejects.toThrow('listener broke'); // what take threw, not what return() threw, as with for await

      const thrown = { done: false };
      await expect(
        consume(generated([1, 2], thrown), () => {
          throw new Error('listener broke');
        }),
      ).rejects.toThrow('listener broke');
      expect(thrown.done).toBe(true);
    });
  });
});
