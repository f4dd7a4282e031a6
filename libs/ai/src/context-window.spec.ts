import * as fc from 'fast-check';
import { fitContext, type FitContextInput } from './context-window';
import type { ChatTurn } from './model-provider';
import { TokenCounter } from './token-counter';

/** A transparent tokenizer for the properties: one token per word, 4 per message, 3 for the reply priming. */
const wordCount = (turns: readonly ChatTurn[]) =>
  turns.reduce((n, t) => n + 4 + t.content.split(/\s+/).filter(Boolean).length, 3);

const words = (n: number, prefix = 'w') => Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
const user = (content: string): ChatTurn => ({ role: 'user', content });
const assistant = (content: string): ChatTurn => ({ role: 'assistant', content });

const text = fc
  .array(fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'a', 'bb', '🙂', ' ', '\n'), { maxLength: 60 })
  .map((parts) => parts.join(' '));
const turn = fc.record({ role: fc.constantFrom<'user' | 'assistant'>('user', 'assistant'), content: text });
const input = fc
  .record({
    systemPrompt: fc.oneof(fc.constant(''), fc.constant('   '), text),
    older: fc.array(turn, { maxLength: 25 }),
    newest: text,
    contextWindow: fc.integer({ min: 20, max: 600 }),
    replyShare: fc.double({ min: 0, max: 0.9, noNaN: true }),
  })
  .map(({ systemPrompt, older, newest, contextWindow, replyShare }): FitContextInput => ({
    systemPrompt,
    history: [...older, user(newest)],
    contextWindow,
    replyBudget: Math.floor(contextWindow * replyShare),
    count: wordCount,
  }));

const budgetOf = (i: FitContextInput) => i.contextWindow - i.replyBudget;
const systemTurn = (i: FitContextInput): ChatTurn[] =>
  i.systemPrompt?.trim() ? [{ role: 'system', content: i.systemPrompt }] : [];
/** The smallest prompt the function may produce: the system turn (if any) and the newest turn, both empty. */
const bareMinimum = (i: FitContextInput) =>
  i.count([...systemTurn(i).map((t) => ({ ...t, content: '' })), { ...i.history.at(-1)!, content: '' }]);

describe(fitContext.name, () => {
  describe('properties', () => {
    it('should never exceed the window minus the reply budget when the bare messages fit', () => {
      fc.assert(
        fc.property(input, (i) => {
          fc.pre(bareMinimum(i) <= budgetOf(i));
          const result = fitContext(i);
          expect(result.promptTokens).toBeLessThanOrEqual(budgetOf(i));
          expect(result.promptTokens).toBe(i.count(result.messages));
        }),
        { numRuns: 500 },
      );
    });

    it('should always keep the system prompt, whole whenever it fits with the newest turn', () => {
      fc.assert(
        fc.property(input, (i) => {
          const result = fitContext(i);
          const system = systemTurn(i);
          if (system.length === 0) {
            expect(result.messages.every((m) => m.role !== 'system')).toBe(true);
            return;
          }
          expect(result.messages[0].role).toBe('system');
          expect(system[0].content.startsWith(result.messages[0].content)).toBe(true);
          if (i.count([...system, { ...i.history.at(-1)!, content: '' }]) <= budgetOf(i)) {
            expect(result.messages[0]).toEqual(system[0]);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('should always keep the newest user message, whole whenever it fits', () => {
      fc.assert(
        fc.property(input, (i) => {
          const result = fitContext(i);
          const newest = i.history.at(-1)!;
          const kept = result.messages.at(-1)!;
          expect(kept.role).toBe('user');
          expect(newest.content.endsWith(kept.content)).toBe(true);
          if (i.count([...systemTurn(i), newest]) <= budgetOf(i)) {
            expect(kept).toEqual(newest);
            expect(result.truncated).toBe(false);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('should keep a suffix of the history, in order, and count the rest as omitted', () => {
      fc.assert(
        fc.property(input, (i) => {
          const result = fitContext(i);
          const kept = result.messages.filter((m) => m.role !== 'system');
          expect(result.omitted + kept.length).toBe(i.history.length);
          expect(kept.slice(0, -1)).toEqual(i.history.slice(result.omitted, -1));
        }),
        { numRuns: 500 },
      );
    });

    it('should drop only what does not fit: one more older turn would exceed the budget', () => {
      fc.assert(
        fc.property(input, (i) => {
          const result = fitContext(i);
          if (result.omitted > 0 && !result.truncated) {
            const [first, ...rest] = result.messages;
            const withOneMore =
              first.role === 'system'
                ? [first, i.history[result.omitted - 1], ...rest]
                : [i.history[result.omitted - 1], ...result.messages];
            expect(i.count(withOneMore)).toBeGreaterThan(budgetOf(i));
          }
        }),
        { numRuns: 500 },
      );
    });

    it('should never exceed the budget with the real tokenizer either', () => {
      const counter = new TokenCounter();
      fc.assert(
        fc.property(input, (i) => {
          const real = { ...i, count: (t: readonly ChatTurn[]) => counter.countTurns(t) };
          fc.pre(bareMinimum(real) <= budgetOf(real));
          const result = fitContext(real);
          expect(result.promptTokens).toBeLessThanOrEqual(budgetOf(real));
          expect(result.messages.at(-1)!.role).toBe('user');
        }),
        { numRuns: 200 },
      );
    });
  });

  it('should keep the whole conversation when it fits', () => {
    const history = [user('hi'), assistant('hello'), user('how are you')];

    const result = fitContext({
      systemPrompt: 'Be kind.',
      history,
      contextWindow: 100,
      replyBudget: 20,
      count: wordCount,
    });

    expect(result).toEqual({
      messages: [{ role: 'system', content: 'Be kind.' }, ...history],
      omitted: 0,
      promptTokens: 3 + 4 * 4 + 2 + 1 + 1 + 3,
      truncated: false,
    });
  });

  it('should drop the oldest turns first', () => {
    // Each turn costs 4 + 10 = 14 tokens; 3 + 3 * 14 = 45 fits in 50, a fourth turn would not.
    const history = [
      user(words(10, 'a')),
      assistant(words(10, 'b')),
      user(words(10, 'c')),
      assistant(words(10, 'd')),
      user(words(10, 'e')),
    ];

    const result = fitContext({ systemPrompt: '', history, contextWindow: 60, replyBudget: 10, count: wordCount });

    expect(result.messages).toEqual(history.slice(2));
    expect(result.omitted).toBe(2);
    expect(result.promptTokens).toBe(45);
  });

  it('should leave out a blank system prompt', () => {
    const result = fitContext({
      systemPrompt: '  \n',
      history: [user('q')],
      contextWindow: 50,
      replyBudget: 0,
      count: wordCount,
    });

    expect(result.messages).toEqual([user('q')]);
  });

  it('should cut a newest message that alone does not fit from its start, keeping its end', () => {
    const long = words(100);

    const result = fitContext({
      systemPrompt: 'sys',
      history: [user('old'), user(long)],
      contextWindow: 40,
      replyBudget: 10,
      count: wordCount,
    });

    // 30 - 3 (priming) - 5 (system) - 4 (user overhead) leaves 18 words.
    expect(result.messages).toEqual([
      { role: 'system', content: 'sys' },
      user(words(100).split(' ').slice(-18).join(' ')),
    ]);
    expect(result).toMatchObject({ omitted: 1, promptTokens: 30, truncated: true });
  });

  it('should cut an oversized system prompt from its end when even an empty newest message does not fit', () => {
    const result = fitContext({
      systemPrompt: words(50, 's'),
      history: [user('question')],
      contextWindow: 30,
      replyBudget: 0,
      count: wordCount,
    });

    // 30 - 3 - 4 - 4 leaves 19 words of the system prompt; the newest message is emptied.
    expect(result.messages).toEqual([
      { role: 'system', content: words(19, 's') },
      { role: 'user', content: '' },
    ]);
    expect(result.promptTokens).toBe(30);
    expect(result.truncated).toBe(true);
  });

  it('should answer an empty history with the system prompt alone', () => {
    const result = fitContext({
      systemPrompt: 'sys',
      history: [],
      contextWindow: 50,
      replyBudget: 10,
      count: wordCount,
    });

    expect(result).toEqual({
      messages: [{ role: 'system', content: 'sys' }],
      omitted: 0,
      promptTokens: 8,
      truncated: false,
    });
  });

  it('should fit a very long message into a small window quickly with the real tokenizer', () => {
    const counter = new TokenCounter();
    const long = 'The quick brown fox jumps over the lazy dog. '.repeat(20_000);

    const result = fitContext({
      systemPrompt: 'You are helpful.',
      history: [user('earlier'), assistant('reply'), user(`${long}What is the question?`)],
      contextWindow: 8192,
      replyBudget: 1024,
      count: (t) => counter.countTurns(t),
    });

    expect(result.promptTokens).toBeLessThanOrEqual(8192 - 1024);
    expect(result.promptTokens).toBeGreaterThan(8192 - 1024 - 50);
    expect(result.messages.at(-1)!.content.endsWith('What is the question?')).toBe(true);
    expect(result.omitted).toBe(2);
  });
});
