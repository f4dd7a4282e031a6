import type OpenAI from 'openai';
import { APIError } from 'openai';
import type { Readable } from 'node:stream';
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

/** Where a streamed body's chunks go as they arrive (`flowBody`). */
export interface BodySink {
  chunk(bytes: Uint8Array): void;
  /** The body ended. */
  end(): void;
  error(err: unknown): void;
}

/** A streamed body flowing into its sink, with flow control. None of the sink's calls come after `close`. */
export interface BodyFlow {
  /** Holds the chunks back (the reader is behind) until `resume`. */
  pause(): void;
  resume(): void;
  /**
   * Done with the body. `complete`: it was read to its end (or to `[DONE]`): the rest is drained so that its
   * keep-alive connection serves the next request. Otherwise the connection is closed (the upstream stops).
   */
  close(complete: boolean): void;
}

/**
 * Starts the body of a streamed response flowing into `sink`: the Node stream `nodeFetch` handed over, pushed chunk
 * by chunk from its 'data' events (no web streams and no async iterator on the way, so a chunk reaches the parser in
 * the same turn it is read), or the standard body of any other fetch's Response. Null when there is no body.
 */
export function flowBody(response: Response, sink: BodySink): BodyFlow | null {
  const node = streamedBody(response);
  if (node) {
    return nodeFlow(node, sink);
  }
  const reader = response.body?.getReader();
  return reader ? webFlow(reader, sink) : null;
}

function nodeFlow(node: Readable, sink: BodySink): BodyFlow {
  let closed = false;
  const onData = (bytes: Uint8Array) => !closed && sink.chunk(bytes);
  node.on('data', onData);
  node.once('end', () => !closed && sink.end());
  node.once('error', (err) => !closed && sink.error(err));
  return {
    pause: () => node.pause(),
    resume: () => node.resume(),
    close: (complete) => {
      if (closed) {
        return;
      }
      closed = true;
      node.removeListener('data', onData);
      if (node.readableEnded || node.destroyed) {
        return;
      }
      if (!complete) {
        node.destroy();
        return;
      }
      // The rest is read and discarded; a response that does not end soon loses its connection instead.
      const timer = setTimeout(() => node.destroy(), END_GRACE_MS);
      node.once('close', () => clearTimeout(timer));
      node.on('error', () => undefined);
      node.on('data', () => undefined);
      node.resume();
    },
  };
}

function webFlow(reader: ReadableStreamDefaultReader<Uint8Array>, sink: BodySink): BodyFlow {
  let closed = false;
  let resumed: (() => void) | null = null;
  let paused: Promise<void> | null = null;
  const pump = async () => {
    try {
      for (;;) {
        if (paused) {
          await paused;
        }
        const read = await reader.read();
        if (closed) {
          return;
        }
        if (read.done) {
          sink.end();
          return;
        }
        sink.chunk(read.value);
      }
    } catch (err) {
      if (!closed) {
        sink.error(err);
      }
    }
  };
  void pump();
  return {
    pause: () => {
      paused ??= new Promise((resolve) => (resumed = resolve));
    },
    resume: () => {
      paused = null;
      resumed?.();
      resumed = null;
    },
    close: () => {
      if (!closed) {
        closed = true;
        void reader.cancel().catch(() => undefined);
        resumed?.();
      }
    },
  };
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
