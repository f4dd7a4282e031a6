import type { TokenUsage } from '@app/persistence';

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function toOpenAiUsage(usage: TokenUsage): OpenAiUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** Identifies one completion in every chunk of it, as OpenAI does. */
export interface CompletionIdentity {
  id: string;
  model: string;
  /** Unix seconds. */
  created: number;
}

/** The non-streaming answer: a `chat.completion` object. */
export function completionObject(identity: CompletionIdentity, content: string, usage: TokenUsage, reasoning = '') {
  return {
    id: identity.id,
    object: 'chat.completion' as const,
    created: identity.created,
    model: identity.model,
    system_fingerprint: null,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content,
          refusal: null,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
        },
        logprobs: null,
        finish_reason: 'stop' as const,
      },
    ],
    usage: toOpenAiUsage(usage),
  };
}

/** One `chat.completion.chunk`; with `include_usage` every chunk carries `usage: null` but the last. */
export function chunkObject(
  identity: CompletionIdentity,
  choices: unknown[],
  usage: OpenAiUsage | null | undefined,
): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    system_fingerprint: null,
    choices,
  };
  if (usage !== undefined) {
    chunk.usage = usage;
  }
  return chunk;
}
