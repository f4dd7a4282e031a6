import { AbortError, sleep } from './abort';
import {
  type ChatTurn,
  type CompletionEvent,
  type CompletionRequest,
  ModelProvider,
  type ModelInfo,
} from './model-provider';
import { TokenCounter } from './token-counter';

export const DEMO_MODEL: ModelInfo = { id: 'demo', name: 'Demo (no provider configured)', contextWindow: 8192 };

const QUOTE_MAX_WORDS = 24;

/** The reply of the demo model to a conversation: fixed text around a short quote of the last user message. */
export function demoReply(messages: readonly ChatTurn[]): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const words = lastUser.split(/\s+/).filter(Boolean);
  const quote = words.slice(0, QUOTE_MAX_WORDS).join(' ') + (words.length > QUOTE_MAX_WORDS ? ' …' : '');
  return [
    'Hello! This is the built-in demo model: no model provider is configured on this server, so I cannot give a real answer.',
    quote ? `You wrote: “${quote}”.` : 'Your message was empty.',
    'To get real replies, an administrator can set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible',
    'endpoint such as OpenRouter, Ollama or vLLM) and restart the server. Until then, everything else works:',
    'threads, history, search, stopping a reply and live updates across your devices.',
  ].join(' ');
}

/**
 * The provider used when no OPENAI_API_KEY is set, so the whole flow can be tried: it streams a canned reply word by
 * word with a small delay, honours the abort signal and reports usage counted with the real tokenizer.
 */
export class DemoProvider extends ModelProvider {
  readonly demo = true;

  constructor(
    private readonly tokenCounter: TokenCounter = new TokenCounter(),
    private readonly wordDelayMs = 15,
  ) {
    super();
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    const reply = demoReply(request.messages);
    // Words keep their following space, so the deltas concatenate to the reply exactly.
    const words = reply.match(/\S+\s*/g) ?? [];
    for (const [i, word] of words.entries()) {
      if (request.signal.aborted) {
        throw new AbortError();
      }
      if (i > 0 && this.wordDelayMs > 0) {
        await sleep(this.wordDelayMs, request.signal);
      }
      yield { type: 'delta', text: word };
    }
    if (request.signal.aborted) {
      throw new AbortError();
    }
    yield {
      type: 'usage',
      usage: this.tokenCounter.estimateUsage(request.messages, reply),
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    return [{ ...DEMO_MODEL }];
  }
}
