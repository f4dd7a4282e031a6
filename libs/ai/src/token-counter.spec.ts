import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { TOKENS_PER_MESSAGE, TOKENS_PER_REPLY, TokenCounter } from './token-counter';

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

  it('should count a long text like the tokenizer does, the same again from its cache', () => {
    const long = Array.from({ length: 50_000 }, (_, i) => `word${i % 997}`).join(' ');
    const fresh = new TokenCounter();

    const first = fresh.countText(long);
    const again = fresh.countText(long.slice(0)); // an equal string, not the same object

    expect(first).toBe(encode(long).length);
    expect(again).toBe(first);
  });

  it('should count about a megabyte of text in well under a second', () => {
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(18_000);

    const started = performance.now();
    const count = new TokenCounter().countText(text);
    const elapsed = performance.now() - started;

    expect(count).toBeGreaterThan(100_000);
    expect(elapsed).toBeLessThan(1_000);
  });
});
