import { BlockSplitter } from './block-splitter';

function feed(text: string, pieceLength: number): string[] {
  const splitter = new BlockSplitter();
  const blocks: string[] = [];
  for (let i = 0; i < text.length; i += pieceLength) {
    blocks.push(...splitter.push(text.slice(i, i + pieceLength)));
  }
  return [...blocks, ...splitter.end()];
}

describe(BlockSplitter.name, () => {
  const answer = [
    '# Title',
    'First paragraph',
    'still first.',
    '',
    '```ts',
    'const a = 1;',
    '',
    'const b = 2;',
    '```',
    'After the code.',
    '',
    '- one',
    '- two',
  ].join('\n');

  it('should finish a block at a blank line, after a heading and at a closing fence, whatever the pieces', () => {
    const expected = [
      '# Title',
      'First paragraph\nstill first.',
      '```ts\nconst a = 1;\n\nconst b = 2;\n```',
      'After the code.',
      '- one\n- two',
    ];
    for (const size of [1, 3, 7, answer.length]) {
      expect(feed(answer, size)).toEqual(expected);
    }
  });

  it('should hold a block back until it is finished', () => {
    const splitter = new BlockSplitter();
    expect(splitter.push('Hello')).toEqual([]);
    expect(splitter.push(' world\nmore')).toEqual([]);
    expect(splitter.push('\n\nNext')).toEqual(['Hello world\nmore']);
    expect(splitter.end()).toEqual(['Next']);
  });

  it('should keep a loose list in one block and end it at the first line that is not part of it', () => {
    expect(feed('1. one\n\n2. two\n   more\n\nAfter.', 2)).toEqual(['1. one\n\n2. two\n   more', 'After.']);
  });

  it('should end a paragraph where a list, a quote or a table starts without a blank line', () => {
    expect(feed('Steps:\n1. one\n2. two\n\nSee:\n> quoted\n\nData:\n| a |\n|---|', 3)).toEqual([
      'Steps:',
      '1. one\n2. two',
      'See:',
      '> quoted',
      'Data:',
      '| a |\n|---|',
    ]);
  });

  it('should show the growing block as a prefix of what it becomes', () => {
    const splitter = new BlockSplitter();
    splitter.push('Done.\n\nOne line\nand a');
    expect(splitter.growing()).toBe('One line\nand a');
    expect(splitter.end()).toEqual(['One line\nand a']);
  });

  it('should keep an unclosed fence open to the end', () => {
    expect(feed('```\ncode\n\nmore code', 4)).toEqual(['```\ncode\n\nmore code']);
  });
});
