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

export function knownContextWindow(modelId: string): number | undefined {
  const base = modelId
    .slice(modelId.lastIndexOf('/') + 1)
    .split(':')[0]
    .toLowerCase();
  const prefix = PREFIXES.find((p) => base.startsWith(p));
  return prefix === undefined ? undefined : KNOWN_CONTEXT_WINDOWS[prefix];
}

export function contextWindowOf(modelId: string, configured?: number): number {
  return configured ?? knownContextWindow(modelId) ?? DEFAULT_CONTEXT_WINDOW;
}

// OpenAI's /models also lists embedding, audio, image and moderation models; they cannot chat.
const NOT_CHAT = /(embed|whisper|tts|dall-e|moderation|transcribe|realtime|audio|image|sora|davinci|babbage)/i;

export function isChatModelId(modelId: string): boolean {
  return !NOT_CHAT.test(modelId);
}
