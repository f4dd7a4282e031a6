import type { TokenUsage } from '@app/persistence';

/** One turn of the conversation as the model sees it. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  model: string;
  messages: ChatTurn[];
  temperature?: number;
  topP?: number;
  /** The reply limit; each provider sends it as the field the model takes (`max_tokens`, `max_completion_tokens`). */
  maxTokens?: number;
  /** Up to 4 sequences that end the reply where they would appear. */
  stop?: string[];
  /** Aborting it must close the upstream connection. */
  signal: AbortSignal;
}

/**
 * `delta`: answer text. `reasoning`: the model's thinking, streamed apart by some providers (`reasoning_content`,
 * `reasoning`); it is shown and stored apart and never sent back as history. `usage`: at most one, at the end.
 */
export type CompletionEvent =
  { type: 'delta'; text: string } | { type: 'reasoning'; text: string } | { type: 'usage'; usage: TokenUsage };

export interface ModelInfo {
  id: string;
  name: string;
  contextWindow: number;
}

/**
 * The port every model provider implements. Failures are thrown as `AppError` with the contract's codes
 * (`upstream_error`, `upstream_timeout`, `rate_limited` with `retryAfterSeconds`) and never carry the API key
 * or upstream internals. When `signal` aborts, the stream ends by throwing an error whose name is `AbortError`.
 */
export abstract class ModelProvider {
  /** True for the built-in demo provider (no API key configured). */
  abstract readonly demo: boolean;
  /** Streams the reply: deltas in order, then at most one usage event. */
  abstract stream(request: CompletionRequest): AsyncIterable<CompletionEvent>;
  /** The models the provider offers (the catalog applies MODELS and caching on top). */
  abstract listModels(signal?: AbortSignal): Promise<ModelInfo[]>;
}
