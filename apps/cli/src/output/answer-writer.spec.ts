import { Writable } from 'node:stream';
import { MarkdownAnswerWriter, terminalMarkdown } from './answer-writer';

class Screen extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
  /** What a person sees: the text without colour codes. */
  get visible(): string {
    // eslint-disable-next-line no-control-regex
    return this.text.replace(/\x1b\[[0-9;]*m/g, '');
  }
}

async function render(answer: string, pieceLength: number, width = 40): Promise<string> {
  const screen = new Screen();
  const writer = new MarkdownAnswerWriter(screen, await terminalMarkdown(width), width);
  for (let i = 0; i < answer.length; i += pieceLength) {
    writer.write(answer.slice(i, i + pieceLength));
  }
  writer.end();
  return screen.visible;
}

describe(MarkdownAnswerWriter.name, () => {
  it('should show a paragraph of prose word by word before it is finished', async () => {
    const screen = new Screen();
    const writer = new MarkdownAnswerWriter(screen, await terminalMarkdown(80), 80);
    writer.write('The answer is');
    writer.write(' **forty');
    expect(screen.visible).toBe('The answer is');
    writer.write('-two** and');
    expect(screen.visible).toBe('The answer is forty-two');
    writer.write(' more.');
    writer.end();
    expect(screen.visible).toBe('The answer is forty-two and more.\n');
  });

  it('should print the same thing whatever the pieces the answer came in', async () => {
    const answer = [
      'Here is `some code` and a [link](http://example.com) with *emphasis* in a paragraph long enough to wrap.',
      '',
      'Steps:',
      '1. one',
      '2. two',
      '',
      '```js',
      'const a = 1;',
      '```',
      'A snake_case word and 2 * 3 stars.',
    ].join('\n');
    const whole = await render(answer, answer.length);
    for (const size of [1, 2, 5, 13]) {
      expect(await render(answer, size)).toBe(whole);
    }
    expect(whole).toContain('some code');
    expect(whole).toMatch(/link\s\(http:\/\/example\.com\)/);
    expect(whole).toMatch(/1\. one\n\s*2\. two/);
    for (const line of whole.split('\n')) {
      expect(line.length).toBeLessThanOrEqual(40);
    }
  });

  it('should never print an escape sequence of the model', async () => {
    const out = await render('Hi \x1b]0;title\x07there \x1b[2Jnow\n\n- item \x9b', 3);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(out).toContain('Hi there now');
  });
});
