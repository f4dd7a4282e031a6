import { Lexer } from 'marked';

/**
 * Splits a growing Markdown text into top-level blocks: finished blocks never change again, only the last one
 * grows. Each update lexes only the text after the last finished block, so a long answer costs the same per delta
 * as a short one.
 */
export class BlockSplitter {
  private finished: string[] = [];
  private finishedLength = 0;
  private text = '';

  update(text: string): { finished: readonly string[]; tail: string } {
    if (!text.startsWith(this.text.slice(0, this.finishedLength))) {
      this.finished = [];
      this.finishedLength = 0;
    }
    this.text = text;
    const rest = text.slice(this.finishedLength);
    const tokens = Lexer.lex(rest);
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].type === 'space') {
      last--;
    }
    // Every block before the last real one is done: text that comes later cannot change it.
    for (let i = 0; i < last; i++) {
      const raw = tokens[i].raw;
      this.finishedLength += raw.length;
      if (tokens[i].type !== 'space') {
        this.finished = [...this.finished, raw];
      }
    }
    return { finished: this.finished, tail: text.slice(this.finishedLength) };
  }
}

/**
 * Closes what a half-streamed block left open (a code fence, inline code, bold) so that it renders as it will
 * look when complete instead of flashing raw syntax.
 */
export function closeOpenSyntax(block: string): string {
  const fences = block.match(/^ {0,3}(```|~~~)/gm);
  if (fences && fences.length % 2 === 1) {
    const fence = fences[0].trim().slice(0, 3);
    return `${block}${block.endsWith('\n') ? '' : '\n'}${fence}`;
  }
  let closed = block;
  const ticks = (closed.match(/`/g) ?? []).length;
  if (ticks % 2 === 1) {
    closed += '`';
  }
  const bold = (closed.replace(/`[^`]*`/g, '').match(/\*\*/g) ?? []).length;
  if (bold % 2 === 1) {
    closed = closed.replace(/\s+$/, '') + '**';
  }
  return closed;
}
