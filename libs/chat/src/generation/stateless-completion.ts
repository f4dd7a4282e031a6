import type { CompletionRequest, ModelProvider } from '@app/ai';
import { AppError } from '@app/common';
import type { TokenUsage } from '@app/persistence';
import { Logger } from '@nestjs/common';

/** `reasoning`: the model's thinking, which some providers stream apart from the answer. */
export type CompletionTextKind = 'content' | 'reasoning';

export interface CompletionOutcome {
  content: string;
  /** The reasoning text, when the provider streamed any ('' otherwise). */
  reasoning: string;
  usage: TokenUsage;
  /** The caller's signal aborted it (the client went away): the upstream request was closed. */
  aborted: boolean;
}

/**
 * A completion the pipeline admitted (quota, model, context checked) that stores nothing but its usage: what the
 * OpenAI-compatible API runs without `X-Confab-Thread`. The provider call is the pipeline's own port, with the
 * caller's abort signal; usage is recorded however it ends (tokens spent on a stopped or failed reply count too).
 */
export class StatelessCompletion {
  private readonly logger = new Logger(StatelessCompletion.name);
  private started = false;

  constructor(
    private readonly request: CompletionRequest,
    private readonly provider: ModelProvider,
    /** The usage when the provider reports none (the estimate of `TokenCounter`). */
    private readonly estimateUsage: (content: string, reasoning: string) => TokenUsage,
    private readonly record: (usage: TokenUsage) => Promise<void>,
    /** Longer replies are cut here and the upstream request closed (MAX_REPLY_CHARS, as for thread replies). */
    private readonly maxChars = Number.POSITIVE_INFINITY,
  ) {}

  get model(): string {
    return this.request.model;
  }

  /** Streams the reply to `onDelta`; throws the provider's failure as an AppError once usage is recorded. */
  async run(onDelta: (text: string, kind: CompletionTextKind) => void): Promise<CompletionOutcome> {
    if (this.started) {
      throw new Error('a completion runs once');
    }
    this.started = true;
    let content = '';
    let reasoning = '';
    let usage: TokenUsage | null = null;
    let failure: AppError | null = null;
    try {
      streaming: for await (const event of this.provider.stream(this.request)) {
        switch (event.type) {
          case 'delta':
          case 'reasoning': {
            const kind = event.type === 'delta' ? 'content' : 'reasoning';
            // A misbehaving upstream could stream for ever: keep what fits (never half a surrogate pair) and stop.
            const room = this.maxChars - content.length - reasoning.length;
            const text =
              event.text.length > room ? event.text.slice(0, room).replace(/[\uD800-\uDBFF]$/, '') : event.text;
            if (kind === 'content') {
              content += text;
            } else {
              reasoning += text;
            }
            if (text) {
              onDelta(text, kind);
            }
            if (text.length < event.text.length) {
              failure = new AppError('upstream_error', `The reply exceeded ${this.maxChars} characters and was cut`);
              break streaming; // leaving the loop makes the provider close the upstream request
            }
            break;
          }
          case 'usage':
            usage = event.usage;
            break;
        }
      }
    } catch (err) {
      if (!this.request.signal.aborted) {
        failure = err instanceof AppError ? err : new AppError('upstream_error', 'The model provider failed');
        if (!(err instanceof AppError)) {
          this.logger.error({ err }, 'completion failed');
        }
      }
    }
    const spent = usage ?? this.estimateUsage(content, reasoning);
    await this.record(spent).catch((err: unknown) => this.logger.error({ err }, 'recording usage failed'));
    if (failure) {
      throw failure;
    }
    return { content, reasoning, usage: spent, aborted: this.request.signal.aborted };
  }
}
