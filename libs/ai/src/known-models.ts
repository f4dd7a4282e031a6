import type { ModelQuirksOverride, SamplingParam } from '@app/common';

/** Fallback when neither MODELS nor the table below knows a model's context window. */
export const DEFAULT_CONTEXT_WINDOW = 8192;

// Context windows of common models, matched by the longest prefix of the id (without a vendor prefix such as
// "openai/" or a tag such as ":8b"). Deliberately small: MODELS=id:window covers everything else.
const KNOWN_CONTEXT_WINDOWS: Record<string, number> = {
  'gpt-5': 400_000,
  'gpt-4.1': 1_047_576,
  'gpt-4o': 128_000,
  'chatgpt-4o': 128_000,
  'gpt-4-turbo': 128_000,
  'gpt-4-1106': 128_000,
  'gpt-4-0125': 128_000,
  'gpt-4': 8_192,
  'gpt-4-32k': 32_768,
  'gpt-3.5-turbo': 16_385,
  'gpt-oss': 131_072,
  o1: 200_000,
  'o1-mini': 128_000,
  'o1-preview': 128_000,
  o3: 200_000,
  'o4-mini': 200_000,
  'claude-': 200_000,
  'gemini-1.5': 1_048_576,
  'gemini-2': 1_048_576,
  llama3: 8_192,
  'llama-3': 8_192,
  'llama3.1': 131_072,
  'llama-3.1': 131_072,
  'llama3.2': 131_072,
  'llama-3.2': 131_072,
  'llama3.3': 131_072,
  'llama-3.3': 131_072,
  mistral: 32_768,
  mixtral: 32_768,
  'qwen2.5': 32_768,
  qwen3: 40_960,
  'deepseek-chat': 65_536,
  'deepseek-r1': 65_536,
  phi3: 4_096,
  gemma2: 8_192,
  gemma3: 131_072,
  demo: 8_192,
};

const PREFIXES = Object.keys(KNOWN_CONTEXT_WINDOWS).sort((a, b) => b.length - a.length);

/** The id without a vendor prefix (`openai/`) or a tag (`:8b`), lower-cased: what the tables match on. */
export function baseModelId(modelId: string): string {
  return modelId
    .slice(modelId.lastIndexOf('/') + 1)
    .split(':')[0]
    .toLowerCase();
}

export function knownContextWindow(modelId: string): number | undefined {
  const base = baseModelId(modelId);
  const prefix = PREFIXES.find((p) => base.startsWith(p));
  return prefix === undefined ? undefined : KNOWN_CONTEXT_WINDOWS[prefix];
}

/** How a model wants its chat request shaped. */
export interface ModelQuirks {
  /** The request field that carries the reply limit. */
  tokenLimitParam: 'max_tokens' | 'max_completion_tokens';
  /** Sampling parameters the model rejects: never sent. */
  unsupportedParams: readonly SamplingParam[];
  /** The role the system prompt is sent as. */
  systemRole: 'system' | 'developer' | 'user';
}

/** What every model gets unless the table or a provider override says otherwise. */
export const DEFAULT_QUIRKS: ModelQuirks = {
  tokenLimitParam: 'max_tokens',
  unsupportedParams: [],
  systemRole: 'system',
};

const REASONING: ModelQuirks = {
  tokenLimitParam: 'max_completion_tokens',
  unsupportedParams: ['temperature', 'top_p'],
  systemRole: 'developer',
};

// OpenAI's reasoning models (o-series, GPT-5) reject max_tokens and any non-default temperature/top_p, and take the
// system prompt as a developer message; the first o1 previews take neither, so it goes as a user turn. Matched like
// the windows above (longest prefix of the id without vendor or tag); a provider's <NAME>_QUIRKS overrides it.
const KNOWN_QUIRKS: Record<string, ModelQuirks> = {
  o1: REASONING,
  'o1-mini': { ...REASONING, systemRole: 'user' },
  'o1-preview': { ...REASONING, systemRole: 'user' },
  o3: REASONING,
  o4: REASONING,
  'gpt-5': REASONING,
  'gpt-5-chat': { ...DEFAULT_QUIRKS, tokenLimitParam: 'max_completion_tokens' },
};

const QUIRK_PREFIXES = Object.keys(KNOWN_QUIRKS).sort((a, b) => b.length - a.length);

/**
 * The quirks of a model: the known-models table, then the provider's overrides on top (the longest matching key
 * wins; `*` matches every model of that provider).
 */
export function quirksOf(modelId: string, overrides: Record<string, ModelQuirksOverride> = {}): ModelQuirks {
  const base = baseModelId(modelId);
  const known = QUIRK_PREFIXES.find((p) => base.startsWith(p));
  const quirks = known === undefined ? DEFAULT_QUIRKS : KNOWN_QUIRKS[known];
  const lowered = modelId.toLowerCase();
  const override = Object.keys(overrides)
    .filter((key) => key === '*' || lowered.startsWith(key.toLowerCase()) || base.startsWith(key.toLowerCase()))
    .sort((a, b) => (a === '*' ? -1 : b === '*' ? 1 : a.length - b.length))
    .reduce<ModelQuirksOverride>((merged, key) => ({ ...merged, ...overrides[key] }), {});
  return { ...quirks, ...override };
}

export function contextWindowOf(modelId: string, configured?: number): number {
  return configured ?? knownContextWindow(modelId) ?? DEFAULT_CONTEXT_WINDOW;
}

// OpenAI's /models also lists embedding, audio, image and moderation models; they cannot chat.
const NOT_CHAT = /(embed|whisper|tts|dall-e|moderation|transcribe|realtime|audio|image|sora|davinci|babbage)/i;

export function isChatModelId(modelId: string): boolean {
  return !NOT_CHAT.test(modelId);
}
