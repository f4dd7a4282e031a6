import type { TokenUsage } from '@app/persistence';
import { AbortError } from './abort';
import type { EventChannel } from './event-channel';
import type { CompletionEvent } from './model-provider';
import { type BodyFlow, flowBody, IdleWatchdog, parseChunk, reasoningOf } from './openai-wire';
import { SseReader } from './sse-reader';
import { IncompleteStreamError, UpstreamTimeoutError } from './upstream-failure';

/** Events read ahead of a slow reader before the body is paused. */
const MAX_BACKLOG = 256;

/**
 * The body of one streamed chat completion, read into the reply's `EventChannel` as it arrives: each chunk of bytes
 * goes through the SSE parser and `JSON.parse` and its deltas are pushed in the same turn (no async iterator on the
 * way). What the SDK's stream did is kept: `[DONE]` ends it, an `error` event or an `error` field is an APIError,
 * malformed JSON a SyntaxError; a reply without a finish reason is incomplete. The idle watchdog runs only while the
 * body flows: when the reader is MAX_BACKLOG events behind, the body is paused (the upstream waits on TCP) and a slow
 * reader never causes a timeout.
 */
export class StreamedReply {
  private readonly sse = new SseReader();
  private readonly watchdog: IdleWatchdog;
  private flow: BodyFlow | null = null;
  private paused = false;
  /** A finish reason was received: the reply is whole even if the usage chunk or `[DONE]` are lost. */
  private finished = false;
  /** The body was read to its end, or to `[DONE]` (what follows is only the end of the response). */
  private complete = false;
  private settled = false;
  private usage: TokenUsage | null = null;
  private text = '';
  private reasoning = '';
  private resolve!: () => void;
  private reject!: (err: unknown) => void;

  /**
   * `idle`: aborted by the watchdog (it also aborts the request); `progress.delivered` is set with the first event
   * (no retry after that); `estimate` gives the usage when the upstream reports none.
   */
  constructor(
    private readonly response: Response,
    private readonly signal: AbortSignal,
    private readonly idle: AbortController,
    private readonly channel: EventChannel<CompletionEvent>,
    timeoutMs: number,
    private readonly progress: { delivered: boolean },
    private readonly estimate: (text: string, reasoning: string) => TokenUsage,
  ) {
    this.watchdog = new IdleWatchdog(timeoutMs, () => idle.abort());
  }

  /**
   * Resolves when the reply is complete (its usage pushed) or the reader left; rejects with the raw error of the
   * stream, an AbortError after a stop.
   */
  read(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.flow = flowBody(this.response, {
      chunk: (bytes) => this.chunk(bytes),
      end: () => {
        this.complete = true;
        this.ended();
      },
      // An abort (a stop, our idle timer) is reported by its own listener.
      error: (err) => {
        if (!this.signal.aborted && !this.idle.signal.aborted) {
          if (this.finished) {
            this.ended();
          } else {
            this.settle(err);
          }
        }
      },
    });
    if (!this.flow) {
      this.settle(new IncompleteStreamError());
      return done;
    }
    this.channel.onDrain = this.onDrain;
    this.channel.onLeave = () => this.settle();
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    this.idle.signal.addEventListener('abort', this.onIdle, { once: true });
    if (this.signal.aborted) {
      this.onAbort();
    } else if (this.channel.abandoned) {
      this.settle(); // the reader left while the response was handed over
    } else {
      this.watchdog.waiting();
    }
    return done;
  }

  private chunk(bytes: Uint8Array): void {
    this.watchdog.waiting();
    try {
      for (const event of this.sse.push(bytes)) {
        if (event.data === '[DONE]') {
          this.complete = true;
          this.ended();
          return;
        }
        const parsed = parseChunk(event, this.response.headers);
        if (parsed.usage) {
          this.usage = { promptTokens: parsed.usage.prompt_tokens, completionTokens: parsed.usage.completion_tokens };
        }
        const choice = parsed.choices?.[0];
        if (choice?.finish_reason) {
          this.finished = true;
        }
        const thinking = reasoningOf(choice?.delta);
        if (thinking) {
          this.reasoning += thinking;
          this.progress.delivered = true;
          this.channel.push({ type: 'reasoning', text: thinking });
        }
        const delta = choice?.delta?.content;
        if (delta) {
          this.text += delta;
          this.progress.delivered = true;
          this.channel.push({ type: 'delta', text: delta });
        }
      }
    } catch (err) {
      this.settle(err);
      return;
    }
    if (this.channel.backlog >= MAX_BACKLOG) {
      // The reader is behind: the upstream waits (TCP backpressure) instead of the events piling up here.
      this.paused = true;
      this.flow?.pause();
      this.watchdog.idle();
    }
  }

  private readonly onDrain = (): void => {
    if (this.paused) {
      this.paused = false;
      this.flow?.resume();
      this.watchdog.waiting();
    }
  };

  /** A stop ends the stream at once: events already received and not yet read are not delivered after it. */
  private readonly onAbort = (): void => {
    this.channel.fail(new AbortError(), true);
    this.settle(new AbortError());
  };

  /** After the finish reason the reply is complete, and losing the usage chunk or [DONE] is not worth an error. */
  private readonly onIdle = (): void => {
    if (this.finished) {
      this.ended();
    } else {
      this.settle(new UpstreamTimeoutError());
    }
  };

  /** The body ended (or reached `[DONE]`): complete after a finish reason, otherwise cut short. */
  private ended(): void {
    if (!this.finished) {
      this.settle(this.idle.signal.aborted ? new UpstreamTimeoutError() : new IncompleteStreamError());
      return;
    }
    this.channel.push({ type: 'usage', usage: this.usage ?? this.estimate(this.text, this.reasoning) });
    this.settle();
  }

  private settle(err?: unknown): void {
    if (this.settled) {
      return;
    }
    this.settled = true;
    this.watchdog.stop();
    this.signal.removeEventListener('abort', this.onAbort);
    this.idle.signal.removeEventListener('abort', this.onIdle);
    this.channel.onDrain = null;
    this.channel.onLeave = null;
    // Leaving early (a stop, the reader left, an error) closes the upstream connection; after `[DONE]` the end of
    // the response is read, so that the connection is kept for the next request.
    this.flow?.close(this.complete);
    if (err === undefined) {
      this.resolve();
    } else {
      this.reject(err);
    }
  }
}
