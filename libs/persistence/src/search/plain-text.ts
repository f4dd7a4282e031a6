/** Marks where the match starts while markers are dropped: a private-use character, removed from the text first. */
const MATCH_AT = '\uE000';

/**
 * Markdown's markers, dropped from a snippet so that it reads as the text a person sees: fence lines, heading,
 * quote and bullet markers at line starts, link targets, bold, strike-through, code ticks, and an asterisk at a
 * word's edge. Underscores stay (`snake_case`, `__init__`). None of them crosses MATCH_AT.
 */
const MARKERS: [RegExp, string][] = [
  [/^[ \t]*(?:```|~~~)[^\n\uE000]*/gm, ' '],
  [/^[ \t]{0,3}(?:#{1,6}|>[ \t>]*|[-*+])[ \t]+/gm, ''],
  [/\[([^\]\n]*)\]\([^)\s\uE000]*\)/g, '$1'],
  [/\*\*|~~|`+/g, ''],
  [/(^|[\s(])\*(?=\S)/g, '$1'],
  [/(\S)\*(?=[\s).,;:!?]|$)/g, '$1'],
];

/**
 * The text either side of a match (`before` ends where the matched word starts, `after` starts with it) as a person
 * reads it: markdown markers dropped, runs of whitespace made one space. Both are cleaned as one text, so a marker
 * around the matched word goes too. A marker cut in half at the slices' outer edges stays, which is harmless.
 */
export function plainText(before: string, after: string): { before: string; after: string } {
  let text = `${before.replace(/\uE000/g, '')}${MATCH_AT}${after.replace(/\uE000/g, '')}`;
  for (const [marker, replacement] of MARKERS) {
    text = text.replace(marker, replacement);
  }
  text = text.replace(/\s+/g, ' ');
  const at = text.indexOf(MATCH_AT);
  return at < 0 ? { before: '', after: text } : { before: text.slice(0, at), after: text.slice(at + 1) };
}
