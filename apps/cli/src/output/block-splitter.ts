const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const HEADING = /^ {0,3}#{1,6}(\s|$)/;
const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])(\s|$)/;
const INDENTED = /^(\s{2,})\S/;
/** Lines that start a block of their own even right after a paragraph line (CommonMark lets them interrupt one). */
const INTERRUPTS = /^ {0,3}([-*+]\s|\d{1,9}[.)]\s|>|\|)/;

/**
 * Cuts streamed Markdown into finished blocks, so that each can be rendered and printed once and never redrawn:
 * a block ends at a blank line, after a heading line, or at the fence that closes a code block (blank lines
 * inside a fence do not end it). A list waits past a blank line for its next line: a loose list rendered in
 * pieces would be renumbered from 1. Text after the last newline waits for more.
 */
export class BlockSplitter {
  private pending = '';
  private lines: string[] = [];
  private fence: string | null = null;
  /** A blank line followed a list: the next line decides whether the list goes on. */
  private listPaused = false;

  /** Adds streamed text; returns the blocks it finished. */
  push(text: string): string[] {
    this.pending += text;
    const finished: string[] = [];
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      this.line(line, finished);
    }
    return finished;
  }

  /** The unfinished block so far (its lines and the text after the last newline); a prefix of what it becomes. */
  growing(): string {
    if (this.lines.length === 0) {
      return this.pending;
    }
    return this.pending ? `${this.lines.join('\n')}\n${this.pending}` : this.lines.join('\n');
  }

  /** The stream ended: whatever is left is the last block. */
  end(): string[] {
    const finished: string[] = [];
    if (this.pending) {
      this.line(this.pending, finished);
      this.pending = '';
    }
    this.flush(finished);
    this.fence = null;
    this.listPaused = false;
    return finished;
  }

  private line(line: string, finished: string[]): void {
    if (this.fence !== null) {
      this.lines.push(line);
      const closing = FENCE.exec(line);
      if (
        closing &&
        closing[1][0] === this.fence[0] &&
        closing[1].length >= this.fence.length &&
        line.trim() === closing[1]
      ) {
        this.fence = null;
        this.flush(finished);
      }
      return;
    }
    if (this.listPaused && line.trim() !== '') {
      this.listPaused = false;
      if (LIST_ITEM.test(line) || INDENTED.test(line)) {
        this.lines.push('', line);
        return;
      }
      this.flush(finished);
    }
    const opening = FENCE.exec(line);
    if (opening) {
      this.flush(finished);
      this.fence = opening[1];
      this.lines.push(line);
      return;
    }
    if (line.trim() === '') {
      if (this.lines.length > 0 && LIST_ITEM.test(this.lines[0])) {
        this.listPaused = true;
      } else {
        this.flush(finished);
      }
      return;
    }
    if (this.lines.length > 0 && INTERRUPTS.test(line) && !INTERRUPTS.test(this.lines[0])) {
      this.flush(finished);
    }
    if (HEADING.test(line)) {
      this.flush(finished);
      this.lines.push(line);
      this.flush(finished);
      return;
    }
    this.lines.push(line);
  }

  private flush(finished: string[]): void {
    if (this.lines.length > 0) {
      finished.push(this.lines.join('\n'));
      this.lines = [];
    }
  }
}
