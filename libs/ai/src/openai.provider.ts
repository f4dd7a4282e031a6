import type { AppConfig, ModelQuirksOverride } from '@app/common';
import { Logger } from '@nestjs/common';
import OpenAI from 'openai';
import { AbortError } from './abort';
import { type AdaptableParam, type ChatBody, chatBody, refusedParam } from './chat-request';
import { isChatModelId, contextWindowOf, quirksOf } from './known-models';
import { type CompletionEvent, type CompletionRequest, ModelProvider, type ModelInfo } from './model-provider';
import { type FetchLike, nodeFetch } from './node-fetch';
import { EventChannel } from './event-channel';
import { listedWindow, nameOf } from './openai-wire';
import { StreamedReply } from './streamed-reply';
import { TokenCounter } from './token-counter';
import { DescribedUpstreamError, UpstreamTimeoutError, upstreamFailure } from './upstream-failure';

export interface OpenAiProviderOptions {
  /** Null: no `Authorization` header (a local Ollama or vLLM without auth). */
  apiKey: string | null;
  /** The provider's name, for log lines. */
  name?: string;
  /** Extra headers on every request (attribution, a gateway's own key). */
  headers?: Record<string, string>;
  /** Per-model request shaping over the known-models table (`<NAME>_QUIRKS`). */
  quirks?: Record<string, ModelQuirksOverride>;
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
  /** The SDK's transport; default `nodeFetch()` (node:http with keep-alive agents). */
  fetch?: FetchLike;
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
  private readonly name: string;
  private readonly quirkOverrides: Record<string, ModelQuirksOverride>;
  /** Parameters each model's upstream refused with a 400 (learned once, then never sent again). */
  private readonly refused = new Map<string, Set<AdaptableParam>>();

  constructor(options: OpenAiProviderOptions) {
    super();
    this.client = new OpenAI({
      // The SDK insists on a key; without one the header is removed below.
      apiKey: options.apiKey ?? 'none',
      baseURL: options.baseUrl ?? undefined,
      timeout: options.timeoutMs,
      maxRetries: 0,
      fetch: options.fetch ?? nodeFetch(),
      defaultHeaders: { ...options.headers, ...(options.apiKey === null ? { Authorization: null } : {}) },
    });
    this.name = options.name ?? 'openai';
    this.quirkOverrides = options.quirks ?? {};
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

  /**
   * The reply as an `EventChannel`: the attempts push their events into it as the upstream's chunks arrive, and the
   * reader takes them with one promise per event (see `EventChannel`). Nothing is requested before the first read.
   */
  stream(request: CompletionRequest): AsyncIterable<CompletionEvent> {
    return new EventChannel<CompletionEvent>(
      (channel) => void this.attempts(request, channel).catch((err: unknown) => channel.fail(err)),
      // Events already received are not delivered after a stop, also those still queued after the reply's end.
      { signal: request.signal, error: () => new AbortError() },
    );
  }

  /** Attempts until one streams to its end; retries only while nothing was delivered. Ends or fails `channel`. */
  private async attempts(request: CompletionRequest, channel: EventChannel<CompletionEvent>): Promise<void> {
    const { signal } = request;
    let adapted = false;
    for (let attempt = 0; ; attempt++) {
      if (channel.abandoned) {
        return; // the reader left during the retry delay: no request for no one
      }
      if (signal.aborted) {
        channel.fail(new AbortError(), true);
        return;
      }
      const progress = { delivered: false };
      const body = this.bodyFor(request);
      try {
        await this.attempt(request, body, progress, channel);
        channel.end();
        return;
      } catch (err) {
        if (channel.abandoned) {
          return;
        }
        if (signal.aborted) {
          channel.fail(new AbortError(), true);
          return;
        }
        const refused = progress.delivered || adapted ? null : refusedParam(err, body);
        if (refused) {
          // Once per request, at once: the model told us what it does not take, and it is remembered for it.
          adapted = true;
          this.learn(request.model, refused);
          attempt--;
          continue;
        }
        const failure = upstreamFailure(err);
        if (progress.delivered || !failure.retryable || attempt >= this.maxRetries) {
          this.logger.warn(`Completion failed (${failure.summary}) after ${attempt + 1} attempt(s)`);
          channel.fail(failure.error);
          return;
        }
        const delay = failure.retryAfterMs ?? this.backoff(attempt);
        this.logger.debug(`Completion attempt ${attempt + 1} failed (${failure.summary}); retrying in ${delay} ms`);
        await retryDelay(delay, signal, channel);
      }
    }
  }

  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const page = await this.client.models.list({ signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
      return page.data
        .filter((m) => isChatModelId(m.id))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((m) => ({ id: m.id, name: nameOf(m) ?? m.id, contextWindow: contextWindowOf(m.id, listedWindow(m)) }));
    } catch (err) {
      if (signal?.aborted) {
        throw new AbortError();
      }
      const failure = upstreamFailure(timeout.aborted ? new UpstreamTimeoutError() : err);
      this.logger.warn(`Provider ${this.name}: listing models failed (${failure.summary})`);
      throw new DescribedUpstreamError(failure.error, failure.summary);
    }
  }

  /** The request body for this model now: its quirks and whatever its upstream refused before. */
  private bodyFor(request: CompletionRequest): ChatBody {
    return chatBody(
      request,
      request.model,
      quirksOf(request.model, this.quirkOverrides),
      this.refused.get(request.model),
    );
  }

  private learn(model: string, param: AdaptableParam): void {
    let refused = this.refused.get(model);
    if (!refused) {
      refused = new Set();
      this.refused.set(model, refused);
    }
    refused.add(param);
    this.logger.log(`Provider ${this.name}: model ${model} refused "${param}"; retrying and sending it no more`);
  }

  /**
   * One request, its events pushed into `channel` as they arrive. Rejects with raw errors (mapped by the caller); an
   * abort of `request.signal` rejects too (the caller reports the stop); resolves when the reply is complete, or
   * quietly when the reader left. The SDK makes the request (auth, headers, status errors) over `nodeFetch` and hands
   * over the raw response; its body is read by `StreamedReply` (a lean SSE parser on the body's chunks) instead of the
   * SDK's stream decoder and web streams, which cost a large share of the CPU under many concurrent streams.
   */
  private async attempt(
    request: CompletionRequest,
    body: ChatBody,
    progress: { delivered: boolean },
    channel: EventChannel<CompletionEvent>,
  ): Promise<void> {
    // Our own timer covers the wait for the headers as well as each gap between chunks (the SDK's `timeout` only
    // covers the headers, and it is set a little longer so that ours decides).
    const idle = new AbortController();
    const headersTimer = setTimeout(() => idle.abort(), this.timeoutMs);
    // A reader leaving before the headers drops the request the same way (the caller then sees `abandoned`).
    channel.onLeave = () => idle.abort();
    let response: Response;
    try {
      response = await this.create(body, AbortSignal.any([request.signal, idle.signal]));
    } catch (err) {
      throw idle.signal.aborted && !request.signal.aborted ? new UpstreamTimeoutError() : err;
    } finally {
      clearTimeout(headersTimer);
      channel.onLeave = null;
    }
    await new StreamedReply(response, request.signal, idle, channel, this.timeoutMs, progress, (text, reasoning) =>
      this.tokenCounter.estimateUsage(request.messages, text, reasoning),
    ).read();
  }

  private create(body: ChatBody, signal: AbortSignal): Promise<Response> {
    return (
      this.client.chat.completions
        // The SDK closes the HTTP connection when this aborts (the caller's stop, or our idle timeout).
        .create(body, { signal, timeout: this.timeoutMs + SDK_TIMEOUT_MARGIN_MS })
        .asResponse()
    );
  }

  private backoff(attempt: number): number {
    const exponential = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** attempt);
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }
}

/** Waits `ms` before the next attempt, or less when `signal` aborts or the reader leaves (the next turn sees which). */
function retryDelay(ms: number, signal: AbortSignal, channel: EventChannel<CompletionEvent>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      channel.onLeave = null;
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    channel.onLeave = done;
  });
}
