/**
 * An async iterable fed by pushes: the producer calls `push`, then `end` or `fail`; the reader iterates it with
 * `for await`. An event pushed while the reader waits resolves its `next()` directly, one promise per event: no
 * async generator in between (each generator layer costs several promise jobs per event, and a model stream
 * crosses this for every token). Nothing is produced before the first `next()`. Events pushed ahead of the reader
 * queue up: `backlog` tells the producer how far ahead it is (it pauses its source) and `onDrain` is called when
 * the reader has taken them all. A reader that leaves early (`return()`, a `break` out of `for await`) calls
 * `onLeave` once, and everything pushed after that is dropped. Once the `stop` signal aborted, the reader gets
 * nothing more that was queued: its next read rejects with the stop's error (the producer, which stops on the same
 * signal, may have ended the channel already with events still queued for a slow reader).
 */
export class EventChannel<T> implements AsyncIterableIterator<T> {
  /** Called when the reader has taken every queued event and waits for more. */
  onDrain: (() => void) | null = null;
  /** Called once when the reader leaves before the end. */
  onLeave: (() => void) | null = null;
  private readonly queue: T[] = [];
  private head = 0;
  private readonly waiters: { resolve: (r: IteratorResult<T>) => void; reject: (err: unknown) => void }[] = [];
  private started = false;
  private closed = false;
  private failed = false;
  private failure: unknown = undefined;
  private left = false;

  /** `start` begins producing into the channel; it is called once, on the first `next()` (never after `return()`). */
  constructor(
    private readonly start: (channel: EventChannel<T>) => void,
    private readonly stop?: { signal: AbortSignal; error: () => unknown },
  ) {}

  /** Events pushed and not yet read. */
  get backlog(): number {
    return this.queue.length - this.head;
  }

  /** The reader left early: there is no one to produce for. */
  get abandoned(): boolean {
    return this.left;
  }

  push(value: T): void {
    if (this.closed) {
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ value, done: false });
    } else {
      this.queue.push(value);
    }
  }

  /** No more events: the reader gets the queued ones, then the end. */
  end(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  /**
   * The stream failed: the reader gets the queued events, then `err`; with `dropQueued`, `err` at once (events
   * already received are not delivered after a stop).
   */
  fail(err: unknown, dropQueued = false): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.failed = true;
    this.failure = err;
    if (dropQueued) {
      this.queue.length = 0;
      this.head = 0;
    }
    // As from a generator: the first waiting read gets the error, any other the end.
    const [first, ...others] = this.waiters.splice(0);
    if (first) {
      this.failed = false;
      first.reject(err);
    }
    for (const waiter of others) {
      waiter.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (!this.started && !this.closed) {
      this.started = true;
      this.start(this);
    }
    if (this.stop?.signal.aborted && (this.head < this.queue.length || this.failed)) {
      this.stopNow(this.stop.error());
    }
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++];
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.closed) {
      if (this.failed) {
        // Once: a reader asking again after the error gets the end, as from a generator.
        this.failed = false;
        return Promise.reject(this.failure);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    const waiting = new Promise<IteratorResult<T>>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.onDrain?.();
    return waiting;
  }

  /** What is queued is dropped, and the next read gets `err` (the producer's later pushes and end are dropped). */
  private stopNow(err: unknown): void {
    this.queue.length = 0;
    this.head = 0;
    this.closed = true;
    this.failed = true;
    this.failure = err;
  }

  return(): Promise<IteratorResult<T>> {
    // After it, every read gets the end: what was queued (events, a failure) is not for anyone any more.
    this.queue.length = 0;
    this.head = 0;
    this.failed = false;
    if (!this.closed) {
      this.left = true;
      this.closed = true;
      for (const waiter of this.waiters.splice(0)) {
        waiter.resolve({ value: undefined, done: true });
      }
      const leave = this.onLeave;
      this.onLeave = null;
      leave?.();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
