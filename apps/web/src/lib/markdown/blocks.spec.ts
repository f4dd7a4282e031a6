import { BlockSplitter, closeOpenSyntax } from './blocks';

describe(BlockSplitter.name, () => {
  const text = ['# Title', '', 'First paragraph.', '', '```js', 'let a = 1;', '```', '', '- one', '- two'].join('\n');

  it('should give the same blocks whether the text arrives at once or a few characters at a time', () => {
    const whole = new BlockSplitter().update(text);
    const streamed = new BlockSplitter();
    for (let i = 1; i <= text.length; i += 3) {
      // On the way, the finished blocks are always a prefix of the final ones.
      const partial = streamed.update(text.slice(0, i));
      expect(whole.finished.slice(0, partial.finished.length)).toEqual(partial.finished);
    }
    const last = streamed.update(text);
    expect([...last.finished, last.tail]).toEqual([...whole.finished, whole.tail]);
    expect(whole.finished.map((b) => b.trim())).toEqual(['# Title', 'First paragraph.', '```js\nlet a = 1;\n```']);
    expect(whole.tail).toBe('- one\n- two');
  });

  it('should never change a finished block once later text arrives', () => {
    const splitter = new BlockSplitter();
    const early = [...splitter.update('Intro.\n\nSecond').finished];
    const later = splitter.update('Intro.\n\nSecond paragraph.\n\nThird').finished;
    expect(later.slice(0, early.length)).toEqual(early);
    expect(later.length).toBeGreaterThan(early.length);
  });

  it('should start over when the text is replaced rather than extended', () => {
    const splitter = new BlockSplitter();
    splitter.update('Alpha.\n\nBeta.\n\nGamma');
    const replaced = splitter.update('Other.\n\nText');
    expect(replaced.finished.map((b) => b.trim())).toEqual(['Other.']);
    expect(replaced.tail).toBe('Text');
  });
});

describe(closeOpenSyntax.name, () => {
  it.each([
    ['```ts\nconst a = 1;', '```ts\nconst a = 1;\n```'],
    ['~~~\ncode\n', '~~~\ncode\n~~~'],
    ['call `fn(', 'call `fn(`'],
    ['this is **bold', 'this is **bold**'],
    ['done **bold** and `code`', 'done **bold** and `code`'],
  ])('should close %j for display', (open, closed) => {
    expect(closeOpenSyntax(open)).toBe(closed);
  });
});
