import { buildSnippet, SNIPPET_CHARS } from './snippet';

const marked = (s: { text: string; highlights: [number, number][] }) =>
  s.highlights.map(([start, end]) => s.text.slice(start, end));

describe(buildSnippet.name, () => {
  it('should keep a short message whole, collapse whitespace and mark every matched prefix', () => {
    const s = buildSnippet('  Explain\n\nquantum   TUNNELLING and tunnels\t', ['tunnel'], 'prefix');
    expect(s.text).toBe('Explain quantum TUNNELLING and tunnels');
    expect(marked(s)).toEqual(['TUNNEL', 'tunnel']);
  });

  it('should cut a long message around the first match, at word boundaries, with ellipses', () => {
    const before = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const after = Array.from({ length: 60 }, (_, i) => `more${i}`).join(' ');
    const s = buildSnippet(`${before} the pelican flies ${after}`, ['Pelican'], 'prefix');
    expect(s.text.startsWith('…word')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.text.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
    expect(s.text.length).toBeGreaterThan(SNIPPET_CHARS - 20);
    expect(s.text).toMatch(/^…(word\d+ )+the pelican flies( more\d+)+…$/);
    expect(marked(s)).toEqual(['pelican']);
  });

  it('should fill the excerpt from before the match when the match is near the end', () => {
    const before = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const s = buildSnippet(`${before} and finally a marmot.`, ['marmot'], 'prefix');
    expect(s.text).toMatch(/^…word\d+ .* and finally a marmot\.$/);
    expect(s.text.length).toBeGreaterThan(SNIPPET_CHARS - 20);
  });

  it('should fold case and diacritics like the index, and highlight the original letters', () => {
    const s = buildSnippet('Un CAFÉ crème, un cafe\u0301 noir, Ärger', ['cafe', 'creme', 'arg'], 'prefix');
    expect(marked(s)).toEqual(['CAFÉ', 'crème', 'cafe\u0301', 'Ärg']);
  });

  it('should highlight only whole words when the index matches whole words', () => {
    const s = buildSnippet('a category of cats, one cat', ['cat'], 'word');
    expect(marked(s)).toEqual(['cat']);
    expect(s.highlights).toEqual([[24, 27]]);
  });

  it('should prefer the longest matching term and ignore punctuation in the query', () => {
    const s = buildSnippet('confabulation, con-artist', ['con', 'confab'], 'prefix');
    expect(marked(s)).toEqual(['confab', 'con']);
  });

  it('should start at the beginning without highlights when nothing matches', () => {
    const s = buildSnippet('x'.repeat(400), ['zebra'], 'prefix');
    expect(s.highlights).toEqual([]);
    expect(s.text).toBe(`${'x'.repeat(SNIPPET_CHARS)}…`);
  });

  it('should never split a surrogate pair in text without spaces', () => {
    // Lengths chosen so that both cuts fall between the halves of a pair.
    const s = buildSnippet(`${'😀'.repeat(200)} needles${'😀'.repeat(200)}`, ['needle'], 'prefix');
    expect(s.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(marked(s)).toEqual(['needle']);
    expect(s.text.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
  });

  it('should keep markup-like text as plain text', () => {
    const s = buildSnippet('<img src=x onerror=alert(1)> alert', ['alert'], 'prefix');
    expect(s.text).toBe('<img src=x onerror=alert(1)> alert');
    expect(marked(s)).toEqual(['alert', 'alert']);
  });
});

describe('buildSnippet on markdown', () => {
  it('should drop markdown markers so the excerpt reads as text', () => {
    const reply = [
      '## Debouncing a search box',
      '',
      'A **debounce** waits until the input has been *quiet*; see [the docs](https://example.com/debounce).',
      '```typescript',
      'export function debounce() {}',
      '```',
      '- `setTimeout` once',
    ].join('\n');
    const s = buildSnippet(reply, ['debounc'], 'prefix');
    expect(s.text).toBe(
      'Debouncing a search box A debounce waits until the input has been quiet; see the docs. export function ' +
        'debounce() {} setTimeout once',
    );
    expect(marked(s)).toEqual(['Debounc', 'debounc', 'debounc']);
  });

  it('should drop the markers around the matched word and keep underscores', () => {
    expect(buildSnippet('say *pelican* or **pelican**', ['pelican'], 'prefix').text).toBe('say pelican or pelican');
    expect(buildSnippet('call __init__ on my_pelican', ['pelican'], 'prefix').text).toBe('call __init__ on my_pelican');
    expect(buildSnippet('a \uE000 stray mark near pelican', ['pelican'], 'prefix').text).toBe(
      'a stray mark near pelican',
    );
  });
});
