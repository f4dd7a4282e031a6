/**
 * An async iterable fed by pushes: the producer calls `push`, then `end` or `fail`; the reader iterates it with
 * `for await`, or listens to it (`listen`: each event handed to a callback in the push, no promise at all). An event
 * pushed while the reader waits resolves its `next()` directly, one promise per event: no async generator in
 * between (each generator layer costs several promise jobs per event, and a model stream crosses this for every
 * token). Nothing is produced before the first read (or `prime`). Events pushed ahead of the reader
 * queue up: `backlog` tells the producer how far ahead it is (it pauses its source) and `onDrain` is called when
 * the reader has taken them all. A reader that leaves early (`return()`, a `break` out of `for await`) calls
 * `onLeave` once, and everything pushed after that is dropped. Once the `stop` signal aborted, the reader gets
 * nothing more that was queued: its next read rejects with the stop's error (the producer, which stops on the same
 * signal, may have ended the channel already with events still queued for a slow reader).
 */
export class EventChannel<T> implements AsyncIterableIterator<T>, Listenable<T> {
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
  /** A listener's `take` is running (a push meanwhile queues, so that events keep their order). */
  private delivering = false;
  /** The reader that takes the events as they are pushed (`listen`), instead of through `next()`. */
  private listener: {
    take: (value: T) => boolean | void;
    resolve: () => void;
    reject: (err: unknown) => void;
  } | null = null;

  /** `start` begins producing into the channel; it is called once, on the first read or `prime` (never after `return()`). */
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
    if (this.listener) {
      this.queue.push(value);
      if (!this.delivering) {
        this.drainTo(this.listener); // pushed from inside `take`, it waits for the loop already delivering
      }
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
    this.unlisten()?.resolve();
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
    const listener = this.unlisten();
    if (listener) {
      this.failed = false;
      listener.reject(err);
      return;
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
    this.prime();
    this.checkStop();
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

  /** Once the stop signal aborted, what is queued (or a failure) gives way to the stop's error. */
  private checkStop(): void {
    if (this.stop?.signal.aborted && (this.head < this.queue.length || this.failed)) {
      this.stopNow(this.stop.error());
    }
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
    this.unlisten()?.resolve();
    return Promise.resolve({ value: undefined, done: true });
  }

  /**
   * Takes the events as they come instead of through `next()`: `take` is called with each queued event at once,
   * then with each push, synchronously and in order, with no promise per event. `take` returning false (or
   * throwing) leaves, as `return()` does. Resolves at the end; rejects with the failure (a stop's error at once, as
   * `next()` would), or with what `take` threw. Not to be called while a `next()` waits.
   */
  listen(take: (value: T) => boolean | void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.prime();
      this.checkStop();
      const listener = { take, resolve, reject };
      this.listener = listener;
      this.drainTo(listener);
      if (this.listener !== listener) {
        return; // it left while taking the queue
      }
      if (!this.closed) {
        this.onDrain?.(); // it waits for pushes: a producer paused for a backlog goes on
        return;
      }
      this.listener = null;
      if (this.failed) {
        this.failed = false;
        reject(this.failure);
      } else {
        resolve();
      }
    });
  }

  /**
   * Starts the producer without reading: what it pushes queues up (counted in `backlog`, so that it pauses) until
   * a reader comes. For a source to be under way before its reader is ready.
   */
  prime(): void {
    if (!this.started && !this.closed) {
      this.started = true;
      this.start(this);
    }
  }

  /** Delivers the queue to `listener`, in order, also what `take` itself pushes meanwhile; stops if it leaves. */
  private drainTo(listener: NonNullable<EventChannel<T>['listener']>): void {
    this.delivering = true;
    try {
      while (this.head < this.queue.length && this.listener === listener) {
        this.deliver(listener, this.queue[this.head++]);
      }
    } finally {
      this.delivering = false;
    }
    if (this.head >= this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
  }

  private deliver(listener: NonNullable<EventChannel<T>['listener']>, value: T): void {
    let more: boolean;
    try {
      more = listener.take(value) !== false;
    } catch (err) {
      this.listener = null;
      void this.return();
      listener.reject(err);
      return;
    }
    if (!more) {
      void this.return();
    }
  }

  /** Ends listening: the listener, if there was one. */
  private unlisten(): NonNullable<EventChannel<T>['listener']> | null {
    const listener = this.listener;
    this.listener = null;
    return listener;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** A source of events that can hand them to a callback as they come (`EventChannel.listen`). */
export interface Listenable<T> {
  listen(take: (value: T) => boolean | void): Promise<void>;
}

/**
 * Takes every event of `source` with `take` (false from it stops, as a `break` out of `for await` does): through
 * `listen` when the source has it, one synchronous call per event; otherwise with `for await`'s semantics (the
 * iterator's `return()` when `take` stops or throws).
 */
export async function consume<T>(
  source: AsyncIterable<T> | Listenable<T>,
  take: (value: T) => boolean | void,
): Promise<void> {
  if ('listen' in source && typeof source.listen === 'function') {
    return source.listen(take);
  }
  const iterator = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) {
      return;
    }
    let more: boolean;
    try {
      more = take(next.value) !== false;
    } catch (err) {
      // As `for await`: the iterator is closed, and what `take` threw is what the caller gets.
      await iterator.return?.()?.catch(() => undefined);
      throw err;
    }
    if (!more) {
      await iterator.return?.();
      return;
    }
  }
}
