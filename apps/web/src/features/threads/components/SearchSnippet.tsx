import { Fragment } from 'react';
import type { Snippet } from '../../../lib/types';

/**
 * Why a thread matched: the server's plain-text excerpt with its highlight ranges wrapped in <mark>. Only text
 * nodes and <mark> elements are made, so nothing in a message can become markup.
 */
export function SearchSnippet({ snippet }: { snippet: Snippet }) {
  const { text } = snippet;
  const parts: { text: string; marked: boolean }[] = [];
  let at = 0;
  for (const [start, end] of snippet.highlights) {
    // Ranges come sorted and apart; anything else (overlapping, outside the text) is shown unmarked.
    if (start < at || end <= start || end > text.length) {
      continue;
    }
    parts.push({ text: text.slice(at, start), marked: false }, { text: text.slice(start, end), marked: true });
    at = end;
  }
  parts.push({ text: text.slice(at), marked: false });
  return (
    <span className="thread-snippet">
      {parts.map((part, i) =>
        part.marked ? <mark key={i}>{part.text}</mark> : <Fragment key={i}>{part.text}</Fragment>,
      )}
    </span>
  );
}
