// Whole escape sequences first (so that their parameters do not show as litter), then every other control
// character: ESC, BEL, backspace, carriage return and the C1 range (U+009B is a one-character CSI on some
// terminals). Tab and newline are all a model may send.
// eslint-disable-next-line no-control-regex
const SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Text from the server (model output, titles, error messages) made safe to write to a terminal. */
export function inert(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL, '');
}

// An escape sequence still open at the end of a delta: held back until the next one completes (or ends) it.
// eslint-disable-next-line no-control-regex
const OPEN_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[PX^_][^\x1b]*|[ -/]*)$/;
const HOLD_MAX = 256;

/** `inert` for text that arrives in pieces: a sequence split across two pieces is still removed whole. */
export class InertStream {
  private held = '';

  push(piece: string): string {
    let text = this.held + piece;
    this.held = '';
    const open = OPEN_SEQUENCE.exec(text);
    if (open && text.length - open.index <= HOLD_MAX) {
      this.held = text.slice(open.index);
      text = text.slice(0, open.index);
    }
    return inert(text);
  }

  end(): string {
    const rest = inert(this.held);
    this.held = '';
    return rest;
  }
}
