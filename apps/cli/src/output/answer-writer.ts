import { Marked, type Tokens } from 'marked';
import { markedTerminal } from 'marked-terminal';
import { BlockSplitter } from './block-splitter';
import { inert } from './sanitize';

/** Prints a streamed answer: call `write` per delta, `end` once. */
export interface AnswerWriter {
  write(delta: string): void;
  end(): void;
}

/** Deltas as they come, made inert; a final newline so that the shell prompt starts on its own line. */
export class RawAnswerWriter implements AnswerWriter {
  private last = '';

  constructor(private readonly out: NodeJS.WritableStream) {}

  write(delta: string): void {
    const text = inert(delta);
    if (text) {
      this.out.write(text);
      this.last = text;
    }
  }

  end(): void {
    if (this.last && !this.last.endsWith('\n')) {
      this.out.write('\n');
    }
    this.last = '';
  }
}

/**
 * Markdown for a terminal, append-only: each finished block is rendered and printed once, so nothing is ever
 * redrawn and the scroll-back stays intact. The growing block is not shown until it is finished.
 */
export class MarkdownAnswerWriter implements AnswerWriter {
  private readonly splitter = new BlockSplitter();
  private printed = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly markdown: Marked = terminalMarkdown(),
  ) {}

  write(delta: string): void {
    this.print(this.splitter.push(inert(delta)));
  }

  end(): void {
    this.print(this.splitter.end());
    this.printed = 0;
  }

  private print(blocks: string[]): void {
    for (const block of blocks) {
      const rendered = (this.markdown.parse(block) as string).replace(/\n+$/, '');
      this.out.write(`${this.printed > 0 ? '\n' : ''}${rendered}\n`);
      this.printed++;
    }
  }
}

/** marked + marked-terminal, sized to the terminal; links print their address instead of a hyperlink escape. */
export function terminalMarkdown(width = process.stdout.columns || 80): Marked {
  const extension = markedTerminal({ width: Math.min(width, 120), reflowText: true, emoji: false, tab: 2 });
  const renderer = extension.renderer as Record<string, unknown>;
  // A model must not be able to write an OSC 8 hyperlink whose visible text hides where it goes.
  renderer.link = function (this: { parser: { parseInline(tokens: unknown[]): string } }, token: Tokens.Link) {
    const text = this.parser.parseInline(token.tokens);
    const href = inert(token.href);
    return text && text !== href ? `${text} (\x1b[4m${href}\x1b[24m)` : `\x1b[4m${href}\x1b[24m`;
  };
  return new Marked(extension);
}

export function answerWriter(out: NodeJS.WriteStream, rich: boolean): AnswerWriter {
  return rich ? new MarkdownAnswerWriter(out) : new RawAnswerWriter(out);
}
