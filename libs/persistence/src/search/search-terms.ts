/** At most this many words of a search are used; more would only narrow a bounded candidate set further. */
const MAX_TERMS = 16;

/**
 * The words of a free-text search, in every adapter: runs of letters and digits, at most 16. Punctuation is
 * dropped, so query syntax in user input (`"`, `-`, `*`, `OR`, `NEAR(`) is never an operator.
 */
export function searchTerms(text: string): string[] {
  return (text.match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_TERMS);
}

const NON_ASCII = /[^ -~]/;

/**
 * A word as the SQLite tokenizer (`unicode61 remove_diacritics 2`) compares it, and as MongoDB's text index
 * (diacritic- and case-insensitive) does: decomposed, combining marks dropped, lower case.
 */
export function foldWord(word: string): string {
  // Most words are printable ASCII, which has nothing to decompose.
  return NON_ASCII.test(word) ? word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase() : word.toLowerCase();
}
