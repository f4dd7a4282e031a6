import { AbortError } from './abort';
import { DemoProvider } from './demo.provider';
import { type CompletionEvent, type CompletionRequest, ModelProvider, type ModelInfo } from './model-provider';
import { cleanTitle, fallbackTitle, generateTitle } from './title-generator';

/** Replies with `reply` (or fails with `failure`, or waits for the abort when `hang`); records the requests. */
class ScriptedProvider extends ModelProvider {
  readonly demo = false;
  requests: CompletionRequest[] = [];

  constructor(private readonly behaviour: { reply?: string; failure?: Error; hang?: boolean }) {
    super();
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    this.requests.push(request);
    if (this.behaviour.failure) {
      throw this.behaviour.failure;
    }
    if (this.behaviour.hang) {
      await new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new AbortError())));
    }
    for (const word of (this.behaviour.reply ?? '').split(/(?<= )/)) {
      yield { type: 'delta', text: word };
    }
    yield { type: 'usage', usage: { promptTokens: 10, completionTokens: 3 } };
  }

  async listModels(): Promise<ModelInfo[]> {
    return [];
  }
}

const userText = 'How do I bake sourdough bread at home without a Dutch oven?';
const replyText = 'You can use a baking stone and a tray of water for steam.';
const signal = () => new AbortController().signal;

describe(generateTitle.name, () => {
  it('should ask the model with the first exchange and use its cleaned answer', async () => {
    const provider = new ScriptedProvider({
      reply: '"Baking Sourdough Without a Dutch Oven."\nThis title captures it.',
    });

    const title = await generateTitle(provider, 'gpt-4o-mini', userText, replyText, signal());

    expect(title).toBe('Baking Sourdough Without a Dutch Oven');
    expect(provider.requests).toHaveLength(1);
    const [request] = provider.requests;
    expect(request.model).toBe('gpt-4o-mini');
    expect(request.messages.at(-1)!.content).toContain(userText);
    expect(request.messages.at(-1)!.content).toContain(replyText);
    expect(request.maxTokens).toBeLessThanOrEqual(32);
  });

  it('should fall back to the first words of the user message when the model fails', async () => {
    const provider = new ScriptedProvider({ failure: new Error('upstream down') });

    expect(await generateTitle(provider, 'm', userText, replyText, signal())).toBe('How do I bake sourdough bread');
  });

  it('should fall back when the model answers nothing usable', async () => {
    const provider = new ScriptedProvider({ reply: ' "" \n' });

    expect(await generateTitle(provider, 'm', userText, replyText, signal())).toBe('How do I bake sourdough bread');
  });

  it('should give up after the timeout and fall back', async () => {
    const provider = new ScriptedProvider({ hang: true });

    const title = await generateTitle(provider, 'm', userText, replyText, signal(), { timeoutMs: 30 });

    expect(title).toBe('How do I bake sourdough bread');
    expect(provider.requests[0].signal.aborted).toBe(true);
  });

  it('should not call the demo provider', async () => {
    const demo = new DemoProvider();
    const stream = countStreamCalls(demo);

    expect(await generateTitle(demo, 'demo', 'hello there', 'reply', signal())).toBe('hello there');
    expect(stream.calls).toBe(0);
  });
});

function countStreamCalls(provider: ModelProvider): { calls: number } {
  const counter = { calls: 0 };
  const original = provider.stream.bind(provider);
  provider.stream = (request) => {
    counter.calls++;
    return original(request);
  };
  return counter;
}

describe(cleanTitle.name, () => {
  it('should keep one line without labels, quotes or trailing punctuation, at most 60 characters', () => {
    expect(cleanTitle('Title: "Sourdough tips"')).toBe('Sourdough tips');
    expect(cleanTitle('**Title:** Sourdough tips!\nmore')).toBe('Sourdough tips');
    expect(cleanTitle("What's new in 'TypeScript 6'?")).toBe("What's new in TypeScript 6?");
    const long = cleanTitle('word '.repeat(40));
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith('word')).toBe(true);
  });
});

describe(fallbackTitle.name, () => {
  it('should take at most six words and 60 characters, without quotes or newlines', () => {
    expect(fallbackTitle('  "Hello"\n\nthere  general Kenobi, how are you today?')).toBe(
      'Hello there general Kenobi, how are',
    );
    expect(fallbackTitle('x'.repeat(100))).toHaveLength(60);
    expect(fallbackTitle('   ')).toBe('New chat');
  });
});
