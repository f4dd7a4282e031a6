// A paragraph can be shown while it grows, word by word, when what is shown can never be rendered differently
// later: the text up to the cut must close every inline construct it opens (code spans, emphasis, links).

/** Paragraphs that start like prose; anything else (lists, tables, quotes, HTML, digits) waits for its block. */
const PROSE_START = /^ {0,3}(?:[\p{L}"'“‘(]|\*\*?\p{L}|_\p{L}|`[^`])/u;

export function startsAsProse(text: string): boolean {
  const firstLine = text.split('\n', 1)[0];
  return PROSE_START.test(text) && !firstLine.includes('|');
}

/**
 * Where the shown part of a growing paragraph may end: the last whitespace after `from`, if the text before it has
 * no construct left open; otherwise `from` (wait for more).
 */
export function safeCut(text: string, from: number): number {
  const lastLine = text.lastIndexOf('\n') + 1;
  // A later line may still turn out to start a block of its own (`1.`, `-`, `>`, `|`): it is shown once its first
  // characters say it is prose, and not before.
  const decided = lastLine === 0 || /^\s{0,3}\p{L}\S/u.test(text.slice(lastLine));
  const cut = decided ? Math.max(text.lastIndexOf(' '), lastLine - 1) : lastLine - 1;
  return cut > from && isClosed(text.slice(0, cut)) ? cut : from;
}

function isClosed(text: string): boolean {
  const prose = withoutCodeSpans(text);
  if (prose === null) {
    return false;
  }
  const count = (re: RegExp) => (prose.match(re) ?? []).length;
  const strong = count(/\*\*/g);
  // A lone star with space on both sides (`2 * 3`) is a character, not emphasis.
  const singleStars = (prose.replace(/\*\*/g, '').match(/(?<=\S)\*|\*(?=\S)/g) ?? []).length;
  const underscores = count(/(?<![\p{L}\p{N}_])_+|_+(?![\p{L}\p{N}_])/gu);
  return (
    strong % 2 === 0 &&
    singleStars % 2 === 0 &&
    underscores % 2 === 0 &&
    count(/~~/g) % 2 === 0 &&
    count(/\[/g) === count(/]/g) &&
    count(/\(/g) === count(/\)/g) &&
    count(/</g) === count(/>/g) &&
    !prose.endsWith('\\')
  );
}

/** The text with its code spans taken out; `null` when a span is still open. */
function withoutCodeSpans(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '`') {
      out += text[i++];
      continue;
    }
    let run = 0;
    while (text[i + run] === '`') {
      run++;
    }
    const fence = '`'.repeat(run);
    let close = text.indexOf(fence, i + run);
    while (close >= 0 && text[close + run] === '`') {
      close = text.indexOf(fence, close + run + 1);
    }
    if (close < 0) {
      return null;
    }
    i = close + run;
  }
  return out;
}
