import type { Snippet } from '../ports/entities';
import { plainText } from './plain-text';
import { foldWord } from './search-terms';

/** How long an excerpt is, in UTF-16 code units, not counting the ellipses. */
export const SNIPPET_CHARS = 160;
/** Context kept before the first match while the text goes on after it. */
const LEAD_CHARS = 48;
/** Raw text read either side of the match: enough to fill an excerpt after runs of whitespace are collapsed. */
const RAW_SPAN = 4 * SNIPPET_CHARS;
const ELLIPSIS = '…';

/** How a search word matches a word of the text: as its start (SQLite's prefix queries) or whole (MongoDB `$text`). */
export type TermMatching = 'prefix' | 'word';

/** A word as SQLite's `unicode61` tokenizer cuts text: letters, digits, their combining marks, private-use characters. */
const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu;

/**
 * An excerpt of about SNIPPET_CHARS around the first word of `content` that one of the search `words` matches,
 * markdown markers dropped and whitespace collapsed (`plainText`), `…` where cut, with the `[start, end)` UTF-16 ranges of every matched term in the excerpt
 * (for a prefix, the part of the word it matched). Plain text: how to mark the ranges up is the client's business.
 * Without a match (the index's tokenizer and this one disagree) it is the start of the content, without highlights.
 */
export function buildSnippet(content: string, words: string[], matching: TermMatching): Snippet {
  const terms = [...new Set(words.map(foldWord))].filter((t) => t.length > 0);
  const first = matchRanges(content, terms, matching, 1)[0];
  const at = first?.[0] ?? 0;
  const leadFrom = Math.max(0, at - RAW_SPAN);
  const tailTo = Math.min(content.length, at + RAW_SPAN);
  const plain = plainText(content.slice(leadFrom, at), content.slice(at, tailTo));
  let lead = plain.before.trimStart();
  let tail = plain.after;
  let cutBefore = hasText(content.slice(0, leadFrom));
  let cutAfter = hasText(content.slice(tailTo));

  const keepBefore = Math.max(LEAD_CHARS, SNIPPET_CHARS - tail.length);
  if (lead.length > keepBefore) {
    lead = lead.slice(wordStartFrom(lead, lead.length - keepBefore));
    cutBefore = true;
  }
  const matchEnd = first ? first[1] - at : 0;
  const keepAfter = Math.max(SNIPPET_CHARS - lead.length, matchEnd);
  if (tail.length > keepAfter) {
    tail = tail.slice(0, wordEndBefore(tail, keepAfter, matchEnd));
    cutAfter = true;
  }
  const body = `${lead}${tail}`.trim();
  const text = `${cutBefore && body ? ELLIPSIS : ''}${body}${cutAfter ? ELLIPSIS : ''}`;
  return { text, highlights: matchRanges(text, terms, matching, Infinity) };
}

/** The `[start, end)` ranges of the words of `text` that a term matches, at most `limit`, in order. */
function matchRanges(text: string, terms: string[], matching: TermMatching, limit: number): [number, number][] {
  const ranges: [number, number][] = [];
  if (terms.length === 0) {
    return ranges;
  }
  for (const word of text.matchAll(WORD)) {
    const length = matchedLength(word[0], terms, matching);
    if (length > 0) {
      ranges.push([word.index, word.index + length]);
      if (ranges.length >= limit) {
        break;
      }
    }
  }
  return ranges;
}

/** How many code units at the start of `word` the longest matching term covers; 0 when none matches. */
function matchedLength(word: string, terms: string[], matching: TermMatching): number {
  const folded = foldWord(word);
  let longest = 0;
  for (const term of terms) {
    if (term.length > longest && (matching === 'word' ? folded === term : folded.startsWith(term))) {
      longest = term.length;
    }
  }
  if (longest === 0 || longest === folded.length) {
    return longest === 0 ? 0 : word.length;
  }
  // Folding may change lengths (a decomposed accent is dropped): walk the word until the folded prefix is covered,
  // keeping any combining marks that belong to its last letter.
  let covered = 0;
  let end = 0;
  for (const char of word) {
    const length = foldWord(char).length;
    if (covered >= longest && length > 0) {
      break;
    }
    covered += length;
    end += char.length;
  }
  return end;
}

function hasText(text: string): boolean {
  return /\S/.test(text);
}

/** Where to start an excerpt at or after `from`: the next word's start, or `from` itself in text without spaces. */
function wordStartFrom(text: string, from: number): number {
  if (text[from - 1] === ' ') {
    return from;
  }
  const space = text.indexOf(' ', from);
  if (space >= 0 && space + 1 < text.length) {
    return space + 1;
  }
  return isLowSurrogate(text.charCodeAt(from)) ? from + 1 : from;
}

/** Where to end an excerpt at or before `to` and not before `min`: after a whole word when there is one. */
function wordEndBefore(text: string, to: number, min: number): number {
  if (text[to] === ' ') {
    return to;
  }
  const space = text.lastIndexOf(' ', to);
  if (space >= min && space > 0) {
    return space;
  }
  return to > min && isLowSurrogate(text.charCodeAt(to)) ? to - 1 : to;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
