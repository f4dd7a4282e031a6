import type OpenAI from 'openai';
import { APIError } from 'openai';
import { streamedBody } from './node-fetch';
import type { ServerSentEvent } from './sse-reader';

/*
 * The OpenAI wire format as the provider reads it: stream chunks, reasoning fields and model-list extras of
 * compatible servers, and the idle timer of a stream.
 */

/**
 * A streamed chunk from its SSE event, as the SDK's stream decodes it: an `error` event or an `error` field in the
 * data is the upstream's error (an APIError), data that is not JSON a SyntaxError.
 */
export function parseChunk(event: ServerSentEvent, headers: Headers): OpenAI.Chat.Completions.ChatCompletionChunk {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw new SyntaxError('Error reading response: malformed server-sent event JSON.');
  }
  const failure = (data as { error?: unknown } | null)?.error;
  if (event.event === 'error' || failure) {
    throw new APIError(undefined, (failure ?? data) as object, undefined, headers);
  }
  return data as OpenAI.Chat.Completions.ChatCompletionChunk;
}

/** How long the end of a response after `[DONE]` may take before its connection is closed instead of kept. */
const END_GRACE_MS = 1_000;

/** A streamed response's bytes, read one chunk at a time. */
export interface BodyChunks {
  next(): Promise<IteratorResult<Uint8Array>>;
  /**
   * Done with the body. `complete`: it was read to its end (or to `[DONE]`): the rest is drained so that its
   * keep-alive connection serves the next request. Otherwise the connection is closed (the upstream stops).
   */
  close(complete: boolean): void;
}

/**
 * The body of a streamed response: the Node stream `nodeFetch` handed over (no web streams on the way), or the
 * standard body of any other fetch's Response; null when there is none.
 */
export function bodyChunks(response: Response): BodyChunks | null {
  const node = streamedBody(response);
  if (node) {
    const chunks = node[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    return {
      next: () => chunks.next(),
      close: (complete) => {
        if (node.readableEnded || node.destroyed) {
          return;
        }
        if (!complete) {
          node.destroy();
          return;
        }
        const timer = setTimeout(() => node.destroy(), END_GRACE_MS);
        node.once('close', () => clearTimeout(timer));
        node.on('error', () => undefined);
        // Drained through the same iterator: while its 'readable' listener is on, `resume()` would not flow.
        const drain = async () => {
          while (!(await chunks.next()).done) {
            // discarded: only the end of the body matters
          }
        };
        void drain().catch(() => undefined);
      },
    };
  }
  const reader = response.body?.getReader();
  return reader
    ? {
        next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
        close: () => void reader.cancel().catch(() => undefined),
      }
    : null;
}

/**
 * Aborts a stream that waited longer than `ms` for its next chunk, with one timer per stream (re-armed at most
 * once per `ms`) instead of a timer set and cleared around every chunk.
 */
export class IdleWatchdog {
  private since: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {}

  waiting(): void {
    this.since = performance.now();
    this.timer ??= setTimeout(() => this.check(), this.ms);
  }

  idle(): void {
    this.since = null;
  }

  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.since = null;
  }

  private check(): void {
    this.timer = null;
    if (this.since === null) {
      return; // not waiting now; the next wait arms it again
    }
    const waited = performance.now() - this.since;
    if (waited >= this.ms) {
      this.onIdle();
    } else {
      this.timer = setTimeout(() => this.check(), this.ms - waited);
    }
  }
}

/** The thinking text of a chunk: `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter, Ollama). */
export function reasoningOf(delta: unknown): string | null {
  if (typeof delta !== 'object' || delta === null) {
    return null;
  }
  const { reasoning_content: content, reasoning } = delta as { reasoning_content?: unknown; reasoning?: unknown };
  const text = typeof content === 'string' && content ? content : reasoning;
  return typeof text === 'string' && text ? text : null;
}

/** A context window the model list states: OpenRouter's `context_length`, vLLM's `max_model_len`. */
export function listedWindow(model: OpenAI.Models.Model): number | undefined {
  const m = model as unknown as Record<string, unknown>;
  const top = m.top_provider as Record<string, unknown> | undefined;
  for (const value of [m.context_length, m.max_model_len, m.context_window, top?.context_length]) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 256) {
      return value;
    }
  }
  return undefined;
}

export function nameOf(model: OpenAI.Models.Model): string | undefined {
  const name = (model as unknown as { name?: unknown }).name;
  return typeof name === 'string' && name.trim() ? name.trim() : undefined;
}
