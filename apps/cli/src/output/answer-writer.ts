import { Marked, type Tokens } from 'marked';
import { BlockSplitter } from './block-splitter';
import { safeCut, startsAsProse } from './inline-stream';
import { InertStream, inert } from './sanitize';

/** Prints a streamed answer: call `write` per delta, `end` once. */
export interface AnswerWriter {
  write(delta: string): void;
  end(): void;
}

/** Deltas as they come, made inert; a final newline so that the shell prompt starts on its own line. */
export class RawAnswerWriter implements AnswerWriter {
  private last = '';
  private readonly inert = new InertStream();

  constructor(private readonly out: NodeJS.WritableStream) {}

  write(delta: string): void {
    this.print(this.inert.push(delta));
  }

  end(): void {
    this.print(this.inert.end());
    if (this.last && !this.last.endsWith('\n')) {
      this.out.write('\n');
    }
    this.last = '';
  }

  private print(text: string): void {
    if (text) {
      this.out.write(text);
      this.last = text;
    }
  }
}

const SGR = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

/**
 * Markdown for a terminal, append-only: nothing printed is ever redrawn, so nothing flickers and the scroll-back
 * stays intact. Each finished block (list, code, table, heading) is rendered and printed once; a paragraph of prose
 * is shown word by word as it grows, as far as no inline construct is left open, wrapped at word boundaries.
 */
export class MarkdownAnswerWriter implements AnswerWriter {
  private readonly splitter = new BlockSplitter();
  private readonly inert = new InertStream();
  private printed = 0;
  /** The paragraph being shown as it grows: how much of its text is out, the column, a space owed. */
  private live: { shown: number; column: number; space: boolean } | null = null;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly markdown: Marked,
    private readonly width = markdownWidth(),
  ) {}

  write(delta: string): void {
    for (const block of this.splitter.push(this.inert.push(delta))) {
      this.finish(block);
    }
    this.grow(this.splitter.growing());
  }

  end(): void {
    this.splitter.push(this.inert.end());
    for (const block of this.splitter.end()) {
      this.finish(block);
    }
    this.printed = 0;
  }

  private finish(block: string): void {
    if (!this.live && startsAsProse(block)) {
      // Prose is always laid out by the word path, so a paragraph looks the same however it arrived.
      this.out.write(this.separator());
      this.live = { shown: 0, column: 0, space: false };
    }
    if (this.live) {
      this.live.space ||= this.live.shown > 0;
      this.wrap(this.inline(block.slice(this.live.shown)));
      this.out.write('\n');
      this.live = null;
      return;
    }
    const rendered = (this.markdown.parse(block) as string).replace(/\n+$/, '');
    this.out.write(`${this.separator()}${rendered}\n`);
  }

  private grow(text: string): void {
    if (!this.live) {
      if (!startsAsProse(text) || safeCut(text, 0) === 0) {
        return;
      }
      this.out.write(this.separator());
      this.live = { shown: 0, column: 0, space: false };
    }
    const cut = safeCut(text, this.live.shown);
    if (cut > this.live.shown) {
      // Every cut is at whitespace, which the inline renderer may trim: the space is owed explicitly.
      this.live.space ||= this.live.shown > 0;
      this.wrap(this.inline(text.slice(this.live.shown, cut)));
      this.live.shown = cut;
    }
  }

  private separator(): string {
    return this.printed++ > 0 ? '\n' : '';
  }

  private inline(source: string): string {
    // Soft line breaks inside a paragraph are spaces; the wrapping below decides where lines end.
    return this.markdown.parseInline(source.replace(/\n/g, ' ')) as string;
  }

  /** Writes rendered inline text word by word, breaking lines at the width (the terminal would break mid-word). */
  private wrap(rendered: string): void {
    const live = this.live!;
    rendered.split(' ').forEach((word, i) => {
      live.space ||= i > 0;
      const length = word.replace(SGR, '').length;
      if (length === 0) {
        if (word) {
          this.out.write(word);
        }
        return;
      }
      const gap = live.space && live.column > 0 ? 1 : 0;
      if (live.column > 0 && live.column + gap + length > this.width) {
        this.out.write('\n');
        live.column = 0;
      } else if (gap) {
        this.out.write(' ');
        live.column += 1;
      }
      this.out.write(word);
      live.column += length;
      live.space = false;
    });
  }
}

function markdownWidth(): number {
  return Math.min(process.stdout.columns || 80, 120);
}

/**
 * marked + marked-terminal, sized to the terminal; links print their address instead of a hyperlink escape.
 * Loaded on first use: marked-terminal brings a syntax highlighter, which a piped `confab` need not start up with.
 */
export async function terminalMarkdown(width = markdownWidth()): Promise<Marked> {
  const { markedTerminal } = await import('marked-terminal');
  const extension = markedTerminal({ width, reflowText: true, emoji: false, tab: 2 });
  const renderer = extension.renderer as Record<string, unknown>;
  // A model must not be able to write an OSC 8 hyperlink whose visible text hides where it goes.
  renderer.link = function (this: { parser: { parseInline(tokens: unknown[]): string } }, token: Tokens.Link) {
    const text = this.parser.parseInline(token.tokens);
    const href = inert(token.href);
    return text && text !== href ? `${text} (\x1b[4m${href}\x1b[24m)` : `\x1b[4m${href}\x1b[24m`;
  };
  return new Marked(extension);
}

export async function answerWriter(out: NodeJS.WriteStream, rich: boolean): Promise<AnswerWriter> {
  return rich ? new MarkdownAnswerWriter(out, await terminalMarkdown()) : new RawAnswerWriter(out);
}
