import type { AppConfig } from '@app/common';
import type { TokenUsage } from '@app/persistence';
import { Logger } from '@nestjs/common';
import OpenAI from 'openai';
import { AbortError, sleep } from './abort';
import { isChatModelId, contextWindowOf } from './known-models';
import { type CompletionEvent, type CompletionRequest, ModelProvider, type ModelInfo } from './model-provider';
import { TokenCounter } from './token-counter';
import { UpstreamTimeoutError, IncompleteStreamError, upstreamFailure } from './upstream-failure';

export interface OpenAiProviderOptions {
  apiKey: string;
  /** Any OpenAI-compatible endpoint, e.g. `http://localhost:11434/v1`; default OpenAI's. */
  baseUrl?: string | null;
  /** Limit for the response headers and, while streaming, for the gap between two chunks. */
  timeoutMs: number;
  /** Attempts after the first, only while nothing was delivered to the caller. */
  maxRetries: number;
  /** First retry delay (doubled per attempt, jittered, capped at 2 s). Default 250 ms. */
  retryBaseDelayMs?: number;
  /** Estimates usage when the upstream does not report it. */
  tokenCounter?: TokenCounter;
}

const MAX_RETRY_DELAY_MS = 2_000;
const SDK_TIMEOUT_MARGIN_MS = 1_000;

/**
 * The model provider for any OpenAI-compatible chat-completions API, on the official SDK. The SDK's own retries are
 * off: ours retry only before the first delta (a retry after that would repeat text the user already saw).
 */
export class OpenAiProvider extends ModelProvider {
  readonly demo = false;
  private readonly logger = new Logger('ModelProvider');
  private readonly client: OpenAI;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly tokenCounter: TokenCounter;

  constructor(options: OpenAiProviderOptions) {
    super();
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl ?? undefined,
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
    this.timeoutMs = options.timeoutMs;
    this.maxRetries = options.maxRetries;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.tokenCounter = options.tokenCounter ?? new TokenCounter();
  }

  static fromConfig(config: AppConfig, tokenCounter?: TokenCounter): OpenAiProvider {
    if (!config.openaiApiKey) {
      throw new Error('OPENAI_API_KEY is not set');
    }
    return new OpenAiProvider({
      apiKey: config.openaiApiKey,
      baseUrl: config.openaiBaseUrl,
      timeoutMs: config.openaiTimeoutMs,
      maxRetries: config.openaiMaxRetries,
      tokenCounter,
    });
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    const { signal } = request;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) {
        throw new AbortError();
      }
      const progress = { delivered: false };
      try {
        yield* this.attempt(request, progress);
        return;
      } catch (err) {
        if (signal.aborted) {
          throw new AbortError();
        }
        const failure = upstreamFailure(err);
        if (progress.delivered || !failure.retryable || attempt >= this.maxRetries) {
          this.logger.warn(`Completion failed (${failure.summary}) after ${attempt + 1} attempt(s)`);
          throw failure.error;
        }
        const delay = failure.retryAfterMs ?? this.backoff(attempt);
        this.logger.debug(`Completion attempt ${attempt + 1} failed (${failure.summary}); retrying in ${delay} ms`);
        await sleep(delay, signal);
      }
    }
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const page = await this.client.models.list({ signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      return page.data
        .map((m) => m.id)
        .filter(isChatModelId)
        .sort()
        .map((id) => ({ id, name: id, contextWindow: contextWindowOf(id) }));
    } catch (err) {
      if (signal?.aborted) {
        throw new AbortError();
      }
      const failure = upstreamFailure(timeout.aborted ? new UpstreamTimeoutError() : err);
      this.logger.warn(`Listing models failed (${failure.summary})`);
      throw failure.error;
    }
  }

  /** One request. Throws raw errors (mapped by the caller); an abort of `request.signal` ends it silently. */
  private async *attempt(
    request: CompletionRequest,
    progress: { delivered: boolean },
  ): AsyncGenerator<CompletionEvent> {
    // Our own timer covers the wait for the headers as well as each gap between chunks (the SDK's `timeout` only
    // covers the headers, and it is set a little longer so that ours decides).
    const idle = new AbortController();
    const headersTimer = setTimeout(() => idle.abort(), this.timeoutMs);
    let stream: Awaited<ReturnType<OpenAiProvider['create']>>;
    try {
      stream = await this.create(request, AbortSignal.any([request.signal, idle.signal]));
    } catch (err) {
      throw idle.signal.aborted && !request.signal.aborted ? new UpstreamTimeoutError() : err;
    } finally {
      clearTimeout(headersTimer);
    }
    const chunks = stream[Symbol.asyncIterator]();
    let finished = false;
    let usage: TokenUsage | null = null;
    let text = '';
    try {
      for (;;) {
        // Armed only while waiting for the upstream, so a slow consumer cannot cause a timeout.
        const timer = setTimeout(() => idle.abort(), this.timeoutMs);
        let next: IteratorResult<OpenAI.Chat.Completions.ChatCompletionChunk>;
        try {
          next = await chunks.next();
        } catch (err) {
          // After the finish reason the reply is complete; losing the usage chunk or [DONE] is not worth an error.
          if (finished) {
            break;
          }
          throw err;
        } finally {
          clearTimeout(timer);
        }
        // Chunks the SDK had already buffered are not delivered after a stop.
        if (next.done || request.signal.aborted) {
          break;
        }
        const chunk = next.value;
        if (chunk.usage) {
          usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
        }
        const choice = chunk.choices[0];
        if (choice?.finish_reason) {
          finished = true;
        }
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          progress.delivered = true;
          yield { type: 'delta', text: delta };
        }
      }
    } finally {
      // Leaving early (the consumer stopped iterating, or an error): make the SDK abort the request.
      await chunks.return?.();
    }
    // The SDK ends the iteration without an error when the request was aborted.
    if (request.signal.aborted) {
      throw new AbortError();
    }
    if (!finished) {
      throw idle.signal.aborted ? new UpstreamTimeoutError() : new IncompleteStreamError();
    }
    yield {
      type: 'usage',
      usage: usage ?? {
        promptTokens: this.tokenCounter.countTurns(request.messages),
        completionTokens: this.tokenCounter.countText(text),
      },
    };
  }

  private create(request: CompletionRequest, signal: AbortSignal) {
    return this.client.chat.completions.create(
      {
        model: request.model,
        messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
        stream: true,
        stream_options: { include_usage: true },
        temperature: request.temperature,
        max_tokens: request.maxTokens,
      },
      // The SDK closes the HTTP connection when this aborts (the caller's stop, or our idle timeout).
      { signal, timeout: this.timeoutMs + SDK_TIMEOUT_MARGIN_MS },
    );
  }

  private backoff(attempt: number): number {
    const exponential = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** attempt);
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }
}
