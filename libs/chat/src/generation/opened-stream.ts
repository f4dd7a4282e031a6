import { type CompletionEvent, type CompletionRequest, consume, type Listenable, type ModelProvider } from '@app/ai';

type Take = (event: CompletionEvent) => boolean | void;

/**
 * A provider stream opened before the reply's bookkeeping: the upstream request is on its way while the messages
 * are stored (ReplyLauncher.open), so the model's time to first token overlaps with our writes instead of following
 * them. The request starts at once; what arrives before the run takes the stream (`listen`) is held for it, and a
 * failure before then is the run's to report. Aborting `abort` (the run's stop) closes the request.
 */
export class OpenedStream implements Listenable<CompletionEvent> {
  readonly abort = new AbortController();
  /** performance.now() when the request was started (the run's time to first token counts from here). */
  readonly openedAt = performance.now();
  private readonly events: AsyncIterator<CompletionEvent> & Partial<Listenable<CompletionEvent>>;
  /**
   * A stream that can be listened to (an `EventChannel`) is listened to from the start: the events that come
   * before the run takes over wait in `held`, then each event goes straight to the run's `take`, in the callback
   * that read it (no promise per event, not even for the first token).
   */
  private readonly early: { held: CompletionEvent[]; take: Take | null; ended: Promise<void> } | null = null;
  /** Any other stream: its first event, asked for at once (that starts the request) and held for the run. */
  private first: Promise<IteratorResult<CompletionEvent>> | null = null;

  constructor(provider: ModelProvider, request: Omit<CompletionRequest, 'signal'>) {
    this.events = provider.stream({ ...request, signal: this.abort.signal })[Symbol.asyncIterator]();
    if (typeof this.events.listen === 'function') {
      const held: CompletionEvent[] = [];
      const early: { held: CompletionEvent[]; take: Take | null; ended: Promise<void> } = {
        held,
        take: null,
        ended: this.events.listen((event) => (early.take ? early.take(event) : void held.push(event))),
      };
      early.ended.catch(() => undefined);
      this.early = early;
    } else {
      this.first = this.events.next();
      this.first.catch(() => undefined);
    }
  }

  /**
   * The provider's events handed to `take` as they come (see `consume`), those held first; false from `take`
   * stops reading (the provider closes its request). Resolves at the end, rejects with the stream's failure.
   */
  async listen(take: Take): Promise<void> {
    if (this.early) {
      const { held } = this.early;
      if (this.abort.signal.aborted) {
        held.length = 0; // a stop ends the stream at once: what was received and not taken is not delivered after it
      }
      // Synchronously, up to handing over: nothing can come in between and be missed.
      while (held.length > 0) {
        const more = this.takeNow(take, held.shift()!);
        if (more !== true) {
          await this.events.return?.(undefined);
          if (more !== false) {
            throw more.error;
          }
          return;
        }
      }
      this.early.take = take;
      await this.early.ended;
      return;
    }
    const first = this.first;
    this.first = null;
    if (first) {
      const next = await first;
      if (next.done || !(await this.takeOne(take, next.value))) {
        return;
      }
    }
    const events = this.events;
    await consume({ [Symbol.asyncIterator]: () => events }, take);
  }

  /** The reply did not start after all (its message could not be stored, a retry answered): stops the request. */
  cancel(): void {
    this.abort.abort();
    void this.events.return?.(undefined).catch(() => undefined);
  }

  /** One event for `take`; false when it stopped reading (or threw), the provider's stream then closed. */
  private async takeOne(take: Take, event: CompletionEvent): Promise<boolean> {
    const more = this.takeNow(take, event);
    if (more !== true) {
      await this.events.return?.(undefined);
      if (more !== false) {
        throw more.error;
      }
    }
    return more === true;
  }

  /** `take(event)`: true to go on, false when it stopped reading, or what it threw. */
  private takeNow(take: Take, event: CompletionEvent): boolean | { error: unknown } {
    try {
      return take(event) !== false;
    } catch (error) {
      return { error };
    }
  }
}
