import {
  type CompletionEvent,
  type CompletionRequest,
  consume,
  EventChannel,
  type Listenable,
  type ModelProvider,
} from '@app/ai';

type Take = (event: CompletionEvent) => boolean | void;

/**
 * A provider stream opened before the reply's bookkeeping: the upstream request is on its way while the messages
 * are stored (ReplyLauncher.open), so the model's time to first token overlaps with our writes instead of following
 * them. The request starts at once; what arrives before the run reads (`listen`) waits for it, and a failure before
 * then is the run's to report. Aborting `abort` (the run's stop) closes the request.
 */
export class OpenedStream implements Listenable<CompletionEvent> {
  readonly abort = new AbortController();
  /** performance.now() when the request was started (the run's time to first token counts from here). */
  readonly openedAt = performance.now();
  private readonly events: AsyncIterator<CompletionEvent>;
  /** Any other stream than an EventChannel: its first event, asked for at once (that starts the request). */
  private first: Promise<IteratorResult<CompletionEvent>> | null = null;

  constructor(provider: ModelProvider, request: Omit<CompletionRequest, 'signal'>) {
    this.events = provider.stream({ ...request, signal: this.abort.signal })[Symbol.asyncIterator]();
    if (this.events instanceof EventChannel) {
      // Started without a reader: what comes early queues in the channel (its backlog pauses the body), and the
      // run takes it, then every later event in the callback that read it (no promise per event, nor for the first).
      this.events.prime();
    } else {
      this.first = this.events.next();
      this.first.catch(() => undefined);
    }
  }

  /**
   * The provider's events handed to `take` as they come (see `consume`); false from `take` stops reading (the
   * provider closes its request). Resolves at the end, rejects with the stream's failure.
   */
  async listen(take: Take): Promise<void> {
    const events = this.events;
    if (events instanceof EventChannel) {
      return events.listen(take);
    }
    // The held first event, then the rest, with `for await`'s semantics.
    let first = this.first;
    this.first = null;
    const iterator: AsyncIterator<CompletionEvent> = {
      next: () => {
        const held = first;
        first = null;
        return held ?? events.next();
      },
      return: async () => (await events.return?.(undefined)) ?? { done: true, value: undefined },
    };
    await consume({ [Symbol.asyncIterator]: () => iterator }, take);
  }

  /** The reply did not start after all (its message could not be stored, a retry answered): stops the request. */
  cancel(): void {
    this.abort.abort();
    void this.events.return?.(undefined).catch(() => undefined);
  }
}
