// Whole escape sequences first (so that their parameters do not show as litter), then every other control
// character: ESC, BEL, backspace, carriage return and the C1 range (U+009B is a one-character CSI on some
// terminals). Tab and newline are all a model may send. A sequence split across two deltas loses its ESC to the
// second rule and prints as inert text.
// eslint-disable-next-line no-control-regex
const SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~])/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Text from the server (model output, titles, error messages) made safe to write to a terminal. */
export function inert(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL, '');
}
