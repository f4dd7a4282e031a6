import { AppError } from '../errors/app-error';

/**
 * How deeply JSON may nest in any HTTP body or socket payload. No contract shape nests beyond 3; deep nesting only
 * served to make class-transformer (and V8's JSON.parse) recurse until the stack overflowed: a 1 MB body of nested
 * arrays answered 500 and held the event loop for seconds.
 */
export const MAX_JSON_DEPTH = 32;

export const JSON_TOO_DEEP_MESSAGE = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text (a Buffer of UTF-8 or a string) nests containers deeper than `max`, found by one linear scan
 * that skips strings; it never parses, so it costs about a millisecond a megabyte whatever the nesting.
 */
export function jsonTextTooDeep(text: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  if (!hasMoreOpeners(text, max)) {
    return false; // the common case, big strings with a few containers: native searches only
  }
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) {
        i++;
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) {
        return true;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}

/** Whether the text holds more than `max` `[` and `{` in all (outside strings or not): needed to nest deeper. */
function hasMoreOpeners(text: Buffer | string, max: number): boolean {
  let count = 0;
  for (const opener of ['[', '{']) {
    for (let i = text.indexOf(opener); i !== -1; i = text.indexOf(opener, i + 1)) {
      if (++count > max) {
        return true;
      }
    }
  }
  return false;
}

/** Whether a parsed value nests objects or arrays deeper than `max` (iterative: no recursion on hostile input). */
export function valueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object' || seen.has(current)) {
      continue;
    }
    if (depth + 1 > max) {
      return true;
    }
    seen.add(current);
    for (const child of Object.values(current)) {
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/** The `validation_failed` error for too deep JSON (HTTP bodies and socket payloads alike). */
export function jsonTooDeepError(): AppError {
  return new AppError('validation_failed', JSON_TOO_DEEP_MESSAGE, { details: [] });
}
