import { trusted } from 'mongoose';

/**
 * Marks an operator object the adapter wrote itself. The connection runs with `sanitizeFilter`, which wraps any
 * `$`-keyed object in a filter in `$eq` (so `{ "$ne": null }` from a request is compared, never obeyed); our own
 * `$lt`, `$in` and `$text` must be let through explicitly.
 */
export function op<T extends object>(operators: T): T {
  return trusted(operators);
}

/** Matches `text` literally inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
