import { type CompletionEvent, type CompletionRequest, consume, type Listenable, type ModelProvider } from '@app/ai';

/**
 * A provider stream opened before the reply's bookkeeping: the upstream request is on its way while the messages
 * are stored (ReplyLauncher.open), so the model's time to first token overlaps with our writes instead of following
 * them. The first event is asked for at once (that starts the request) and held for the run; a failure before the
 * run reads is the run's to report. Aborting `abort` (the run's stop) closes the request.
 */
export class OpenedStream implements AsyncIterable<CompletionEvent>, Listenable<CompletionEvent> {
  readonly abort = new AbortController();
  /** performance.now() when the request was started (the run's time to first token counts from here). */
  readonly openedAt = performance.now();
  private readonly events: AsyncIterator<CompletionEvent> & Partial<Listenable<CompletionEvent>>;
  private first: Promise<IteratorResult<CompletionEvent>> | null;

  constructor(provider: ModelProvider, request: Omit<CompletionRequest, 'signal'>) {
    this.events = provider.stream({ ...request, signal: this.abort.signal })[Symbol.asyncIterator]();
    this.first = this.events.next();
    this.first.catch(() => undefined);
  }

  /**
   * The provider's events, the held first one first. A plain iterator over the provider's, not a generator: every
   * token passes here, and a generator layer would cost it several more promise jobs.
   */
  [Symbol.asyncIterator](): AsyncIterator<CompletionEvent> {
    return {
      next: () => {
        const first = this.first;
        this.first = null;
        return first ?? this.events.next();
      },
      // Left early (the run stopped reading): the provider's stream ends and closes its request.
      return: async () => {
        this.first = null;
        await this.events.return?.(undefined);
        return { done: true, value: undefined };
      },
    };
  }

  /**
   * The provider's events handed to `take` as they come (see `consume`), the held first one first: once that one
   * is in, no promise per event when the provider's stream can be listened to (an `EventChannel`).
   */
  async listen(take: (event: CompletionEvent) => boolean | void): Promise<void> {
    const first = this.first;
    this.first = null;
    if (first) {
      const next = await first;
      if (next.done) {
        return;
      }
      let more: boolean;
      try {
        more = take(next.value) !== false;
      } catch (err) {
        await this.events.return?.(undefined);
        throw err;
      }
      if (!more) {
        await this.events.return?.(undefined);
        return;
      }
    }
    const events = this.events;
    await (typeof events.listen === 'function'
      ? events.listen(take)
      : consume({ [Symbol.asyncIterator]: () => events }, take));
  }

  /** The reply did not start after all (its message could not be stored, a retry answered): stops the request. */
  cancel(): void {
    this.abort.abort();
    void this.events.return?.(undefined).catch(() => undefined);
  }
}
