import type { CompletionEvent } from './model-provider';
import { DEMO_MODEL, DemoProvider, demoReply } from './demo.provider';
import { TokenCounter } from './token-counter';

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'What is the capital of France?' },
];

describe(DemoProvider.name, () => {
  it('should offer exactly the labelled demo model', async () => {
    const provider = new DemoProvider();

    expect(provider.demo).toBe(true);
    expect(await provider.listModels()).toEqual([
      { id: 'demo', name: 'Demo (no provider configured)', contextWindow: 8192 },
    ]);
    expect(DEMO_MODEL.id).toBe('demo');
  });

  it('should stream a deterministic reply word by word that explains itself and quotes the user, then the usage', async () => {
    const counter = new TokenCounter();
    const events: CompletionEvent[] = [];

    for await (const event of new DemoProvider(counter, 0).stream({
      model: 'demo',
      messages,
      signal: new AbortController().signal,
    })) {
      events.push(event);
    }

    const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
    const reply = deltas.join('');
    expect(reply).toBe(demoReply(messages));
    expect(deltas.length).toBeGreaterThan(20);
    expect(reply).toContain('no model provider is configured');
    expect(reply).toContain('What is the capital of France?');
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { promptTokens: counter.countTurns(messages), completionTokens: counter.countText(reply) },
    });
  });

  it('should quote only the start of a long message', () => {
    const long = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');

    const reply = demoReply([{ role: 'user', content: long }]);

    expect(reply).toContain('w0 w1');
    expect(reply).not.toContain('w99');
  });

  it('should stop with an AbortError when the signal aborts', async () => {
    const controller = new AbortController();
    const deltas: string[] = [];

    const consume = async () => {
      for await (const event of new DemoProvider(new TokenCounter(), 5).stream({
        model: 'demo',
        messages,
        signal: controller.signal,
      })) {
        if (event.type === 'delta') {
          deltas.push(event.text);
          if (deltas.length === 2) {
            controller.abort();
          }
        }
      }
    };

    await expect(consume()).rejects.toMatchObject({ name: 'AbortError' });
    expect(deltas).toHaveLength(2);
  });
});
