import { AppError, type ErrorCode } from '@app/common';
import { type ChatTurn, consume, type ModelProvider } from '@app/ai';
import {
  type MessageRepository,
  type MessageEntity,
  type OwnerScope,
  type ReplyProgress,
  type TokenUsage,
} from '@app/persistence';
import { Logger } from '@nestjs/common';
import { toMessageView, type MessageView } from '../presenters';
import type { ThreadEventBus } from '../events/thread-event-bus';
import { emitTurn } from './emit-turn';
import type { OpenedStream } from './opened-stream';
import { FLUSH_INTERVAL_MS, type FlushableReply, type ReplyFlusher } from './reply-flusher';
import type { ReplyEnd } from './started';

export interface RunInput {
  scope: OwnerScope;
  threadId: string;
  assistant: MessageEntity;
  model: string;
  turns: ChatTurn[];
  /** How many older messages of the branch did not fit the context window (reported with the reply). */
  contextOmitted: number;
  temperature?: number;
  maxTokens?: number;
  /** Longer replies are cut here, the upstream request aborted, and the reply stored as `error`. */
  maxChars: number;
  /** The usage of the reply when the provider reports none (it failed, was stopped, or its upstream said nothing). */
  estimateUsage: (answer: string, reasoning: string) => TokenUsage;
  /** Called once, with the milliseconds from the provider call to the first token. */
  onFirstToken?: (elapsedMs: number) => void;
  /**
   * Deltas arriving within this many milliseconds of the reply's previous delta event are joined into the next one
   * (DELTA_COALESCE): the fan-out then costs events per window, not per provider chunk. The first delta is never
   * held. 0 or unset: only deltas of the same I/O turn are joined.
   */
  coalesceMs?: number;
  /**
   * Writes the growing text with every other reply of the process in one batch (ReplyLauncher passes the one
   * `ReplyFlusher`); without it the run flushes its own text with `MessageRepository.update` on a timer of its own.
   */
  flusher?: ReplyFlusher;
  /** The provider stream, already opened (ReplyLauncher.open); without it the run opens its own from the above. */
  opened?: OpenedStream;
}

export interface RunOutcome {
  message: MessageEntity;
  error: AppError | null;
  /** False when the reply's row was gone at the end (its thread or owner was deleted meanwhile). */
  persisted: boolean;
}

type DeltaKind = 'content' | 'reasoning';

/**
 * One assistant reply being generated: streams from the provider, publishes each delta with the next `seq`,
 * flushes the growing text at most every FLUSH_INTERVAL_MS, and writes the whole reply once at the end
 * (complete, stopped or error). Deltas of one kind arriving in the same I/O turn, or within `coalesceMs` of the
 * previous delta event, are coalesced into one event (the first is never held, and whatever is held goes out
 * before the reply's end); reasoning text is published and stored apart from the answer (`kind: 'reasoning'`,
 * `reasoning`).
 */
export class GenerationRun implements FlushableReply {
  private readonly logger = new Logger(GenerationRun.name);
  private readonly abort: AbortController;
  private content = '';
  private reasoning = '';
  private seq = 0;
  private pending = '';
  private pendingKind: DeltaKind = 'content';
  /**
   * The scheduled emit of the pending text: in the next turn's pass of `emitTurn` (shared by every run, so that
   * the deltas of all replies of a turn are published together), or at the end of the coalescing window.
   */
  private emitQueued = false;
  private emitTimer: NodeJS.Timeout | null = null;
  private readonly emitInTurn = (): void => this.emitPending();
  /** The first text's emit (see `scheduleEmit`); emitted already when the kind changed or the stream ended first. */
  private readonly firstEmit = (): void => {
    if (this.emitQueued && this.seq === 0) {
      try {
        this.emitPending();
      } catch (err) {
        this.logger.error({ err }, 'publishing a delta failed'); // as in the turn's pass
      }
    }
  };
  /** The window's end joins the turn's pass too: its held text goes out with the other replies'. */
  private readonly queueEmit = (): void => {
    this.emitTimer = null;
    this.emitQueued = true;
    emitTurn.queue(this.emitInTurn);
  };
  /** performance.now() of the last delta event. */
  private lastEmitAt = Number.NEGATIVE_INFINITY;
  /** The run is taking what its stream had already received (see `scheduleEmit`). */
  private starting = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushedLength = 0;
  private flushedReasoningLength = 0;
  /** performance.now() when `progress` last handed text to the flush. */
  private progressAt = Number.NEGATIVE_INFINITY;
  private flushing: Promise<unknown> = Promise.resolve();
  private usage: TokenUsage | null = null;
  /** The reply reached `maxChars`. */
  private cut = false;
  private startedAt = 0;
  readonly done: Promise<RunOutcome>;
  private resolveDone!: (outcome: RunOutcome) => void;

  constructor(
    private readonly input: RunInput,
    private readonly provider: ModelProvider,
    private readonly messages: MessageRepository,
    private readonly bus: ThreadEventBus,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.abort = input.opened?.abort ?? new AbortController();
  }

  get messageId(): string {
    return this.input.assistant.id;
  }

  /** Its text was handed to the batched flush (which also sets the row's `updatedAt`) within the last `ms`. */
  savedSince(ms: number): boolean {
    return performance.now() - this.progressAt < ms;
  }

  get ownerId(): string {
    return this.input.scope.ownerId;
  }

  get threadId(): string {
    return this.input.threadId;
  }

  /** The reply as relayed to clients: the stored message plus how many older messages the model did not see. */
  view(message: MessageEntity): MessageView {
    return this.input.contextOmitted > 0
      ? { ...toMessageView(message), contextOmitted: this.input.contextOmitted }
      : toMessageView(message);
  }

  stop(): void {
    this.abort.abort();
  }

  /** What the transports may hold of a run: its end as relayed, nothing else of it. */
  get handle(): { readonly done: Promise<ReplyEnd> } {
    return { done: this.done.then(({ message, error }) => ({ message: this.view(message), error })) };
  }

  /** Generates the reply (once): streams, publishes, stores; resolves with the outcome, never rejects. */
  async generate(): Promise<RunOutcome> {
    let error: AppError | null = null;
    this.startedAt = this.input.opened?.openedAt ?? performance.now();
    const events =
      this.input.opened ??
      this.provider.stream({
        model: this.input.model,
        messages: this.input.turns,
        temperature: this.input.temperature,
        maxTokens: this.input.maxTokens,
        signal: this.abort.signal,
      });
    try {
      // One synchronous call per event where the provider's stream allows it (no promise per token); false stops
      // reading, which makes the provider close the upstream request.
      this.starting = true;
      const reading = consume(events, (event) => {
        switch (event.type) {
          case 'delta':
          case 'reasoning':
            return this.onDelta(event.text, event.type === 'delta' ? 'content' : 'reasoning');
          case 'usage':
            this.usage = event.usage;
            return true;
        }
        return true;
      });
      this.starting = false;
      await reading;
    } catch (err) {
      if (!this.abort.signal.aborted) {
        error = err instanceof AppError ? err : new AppError('upstream_error', 'The model provider failed');
        if (!(err instanceof AppError)) {
          this.logger.error({ err }, 'generation failed');
        }
      }
    }
    if (this.cut) {
      error = new AppError('upstream_error', `The reply exceeded ${this.input.maxChars} characters and was cut`);
    }
    this.emitPending();
    let outcome: RunOutcome;
    try {
      outcome = await this.finish(error);
    } catch (err) {
      // The reply could not be stored: still end it for everyone waiting on it, or they would wait forever.
      this.logger.error({ err }, 'storing the reply failed');
      const failure = new AppError('internal', 'The reply could not be stored');
      outcome = {
        message: { ...this.input.assistant, content: this.content, reasoning: this.reasoning || null, status: 'error' },
        error: failure,
        persisted: false,
      };
      this.bus.publish({
        type: 'message:error',
        threadId: this.input.threadId,
        messageId: this.messageId,
        error: { code: failure.code, message: failure.message },
      });
    }
    this.resolveDone(outcome);
    return outcome;
  }

  /** Takes a delta; false when the reply reached its maximum size (the rest of the stream is not wanted). */
  private onDelta(text: string, kind: DeltaKind): boolean {
    if (!text) {
      return true;
    }
    // Thinking counts too: an upstream could stream reasoning for ever as well.
    const room = this.input.maxChars - this.content.length - this.reasoning.length;
    if (text.length > room) {
      // A misbehaving upstream could stream for ever: keep what fits (never half a surrogate pair) and stop.
      text = text.slice(0, room).replace(/[\uD800-\uDBFF]$/, '');
      this.cut = true;
    }
    if (this.content.length === 0 && this.reasoning.length === 0) {
      this.input.onFirstToken?.(performance.now() - this.startedAt);
    }
    if (kind !== this.pendingKind) {
      // Each event carries one kind: what is pending of the other goes out first, in order.
      this.emitPending();
      this.pendingKind = kind;
    }
    if (kind === 'reasoning') {
      this.reasoning += text;
    } else {
      this.content += text;
    }
    this.pending += text;
    this.scheduleEmit();
    if (this.input.flusher) {
      this.input.flusher.dirty(this);
    } else {
      this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    }
    return !this.cut;
  }

  private scheduleEmit(): void {
    if (this.emitQueued || this.emitTimer) {
      return;
    }
    if (this.seq === 0 && !this.starting) {
      // The reply's first text goes out at the end of the callback that brought it (with whatever else that
      // callback brought), not in the turn's shared pass, which waits for the loop's check phase: it is the time to
      // first token. Text that had come before the run started reading goes in the pass, on a later turn: whoever
      // starts the run subscribes first (RunRegistry.add).
      this.emitQueued = true;
      process.nextTick(this.firstEmit);
      return;
    }
    const wait = this.lastEmitAt + (this.input.coalesceMs ?? 0) - performance.now();
    if (wait > 0) {
      this.emitTimer = setTimeout(this.queueEmit, wait);
    } else {
      this.queueEmit();
    }
  }

  private emitPending(): void {
    if (this.emitTimer) {
      clearTimeout(this.emitTimer);
      this.emitTimer = null;
    }
    if (this.emitQueued) {
      emitTurn.cancel(this.emitInTurn);
      this.emitQueued = false;
    }
    if (!this.pending) {
      return;
    }
    this.lastEmitAt = performance.now();
    const delta = this.pending;
    this.pending = '';
    this.seq += 1;
    this.bus.publish({
      type: 'message:delta',
      threadId: this.input.threadId,
      messageId: this.messageId,
      seq: this.seq,
      delta,
      ...(this.pendingKind === 'reasoning' ? { kind: 'reasoning' as const } : {}),
    });
  }

  /** The text so far when it changed since the last flush (see `ReplyFlusher`); marks it flushed. */
  progress(): ReplyProgress | null {
    if (this.content.length === this.flushedLength && this.reasoning.length === this.flushedReasoningLength) {
      return null;
    }
    this.flushedLength = this.content.length;
    this.flushedReasoningLength = this.reasoning.length;
    this.progressAt = performance.now();
    return { scope: this.input.scope, id: this.messageId, content: this.content, reasoning: this.reasoning || null };
  }

  private flush(): void {
    this.flushTimer = null;
    const progress = this.progress();
    if (!progress) {
      return;
    }
    const patch = { content: progress.content, ...(progress.reasoning ? { reasoning: progress.reasoning } : {}) };
    this.flushing = this.flushing
      .then(() => this.messages.update(this.input.scope, this.messageId, patch))
      .catch((err: unknown) => this.logger.warn({ err }, 'partial reply flush failed'));
  }

  private async finish(error: AppError | null): Promise<RunOutcome> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    await Promise.all([this.flushing, this.input.flusher?.settle(this)]);
    const status = error ? 'error' : this.abort.signal.aborted ? 'stopped' : 'complete';
    // The provider's numbers when it gave them; the estimate otherwise.
    const usage = this.usage ?? this.input.estimateUsage(this.content, this.reasoning);
    const reasoning = this.reasoning || null;
    const updated = await this.messages.update(this.input.scope, this.messageId, {
      content: this.content,
      ...(reasoning ? { reasoning } : {}),
      status,
      usage,
    });
    // Without a row (the thread was deleted meanwhile) report what was generated all the same.
    const stored = updated ?? { ...this.input.assistant, content: this.content, reasoning, status, usage };
    if (error) {
      this.bus.publish({
        type: 'message:error',
        threadId: this.input.threadId,
        messageId: this.messageId,
        error: { code: error.code as ErrorCode, message: error.message },
      });
    } else {
      this.bus.publish({ type: 'message:done', threadId: this.input.threadId, message: this.view(stored) });
    }
    return { message: stored, error, persisted: updated !== null };
  }
}
