import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { EXACT_COUNT_MAX_CHARS, TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, TokenCounter } from './token-counter';

/**
 * The event-loop cost of counting `text` with a fresh counter (no cache): the main thread's CPU time, in ms, which on
 * a machine shared by many busy processes is what the call holds the loop for (the wall clock also counts the waits
 * for a core).
 */
function costOf(text: string): { ms: number; count: number } {
  const counter = new TokenCounter();
  const cpu = () => {
    const { user, system } =
      typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage() : process.cpuUsage();
    return (user + system) / 1000;
  };
  const started = cpu();
  const count = counter.countText(text);
  return { ms: cpu() - started, count };
}

const randomWords = (chars: number) => {
  let text = '';
  while (text.length < chars) {
    text += ` ${Math.random().toString(36).slice(2, 8)}`;
  }
  return text.slice(0, chars);
};

describe(TokenCounter.name, () => {
  const counter = new TokenCounter();

  it('should count text with the o200k_base encoding', () => {
    expect(counter.countText('')).toBe(0);
    expect(counter.countText('hello world')).toBe(2);
    expect(counter.countText('The quick brown fox jumps over the lazy dog.')).toBe(10);
  });

  it('should count special-token markers in user text as plain text instead of throwing', () => {
    expect(counter.countText('before <|endoftext|> after')).toBeGreaterThan(3);
  });

  it('should add the per-message overhead and the reply priming to the turns', () => {
    const turns = [
      { role: 'system' as const, content: 'hello world' },
      { role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog.' },
    ];

    expect(counter.countTurns(turns)).toBe(TOKENS_PER_REPLY + 2 * TOKENS_PER_MESSAGE + 2 + 10);
    expect(counter.countTurns([])).toBe(TOKENS_PER_REPLY);
  });

  it('should count ordinary text up to the exact limit like the tokenizer does, the same again from its cache', () => {
    const text = Array.from({ length: 2_000 }, (_, i) => `word${i % 997}`)
      .join(' ')
      .slice(0, EXACT_COUNT_MAX_CHARS);
    const fresh = new TokenCounter();

    const first = fresh.countText(text);
    const again = fresh.countText(text.slice(0)); // an equal string, not the same object

    expect(first).toBe(encode(text).length);
    expect(again).toBe(first);
  });

  it('should estimate longer texts within a few percent of the exact count', () => {
    for (const text of [
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(2_000),
      randomWords(100_000),
      Array.from({ length: 20_000 }, (_, i) => `const value${i} = compute(${i * 7}, "x");`).join('\n'),
    ]) {
      const exact = encode(text).length;
      const estimated = new TokenCounter().countText(text);
      expect(Math.abs(estimated - exact) / exact).toBeLessThan(0.1);
    }
  });

  it('should count a long run without whitespace in slices: close to exact, never quadratic', () => {
    const run = 'abcdefghij'.repeat(400);
    const exact = encode(run).length;
    const counted = new TokenCounter().countText(run);
    expect(counted).toBeGreaterThanOrEqual(exact);
    expect(counted).toBeLessThan(exact * 1.2);
  });

  // Issue 9: a 100,000-character run held the event loop 8.5 s and a 5 MB reply for minutes. The bound is loose (a
  // loaded CI machine); the faults took thousands of times longer.
  it.each([
    ['1 MB without whitespace', () => 'x'.repeat(1_000_000)],
    ['1 MB of punctuation', () => '!@#$%^&*()'.repeat(100_000)],
    ['1 MB of CJK', () => '漢字仮名交じり文'.repeat(125_000)],
    ['1 MB of newlines', () => '\n'.repeat(1_000_000)],
    ['5 MB of random words (a model reply)', () => randomWords(100_000).repeat(50)],
  ])('should count %s in under 50 ms', (_name, make) => {
    const text = make();
    const { ms, count } = costOf(text);
    expect(count).toBeGreaterThan(text.length / 100);
    expect(ms).toBeLessThan(50);
  });
});
