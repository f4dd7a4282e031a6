import { isId } from '../ids/id';

/** A keyset position: the sort value (epoch ms) and the id that breaks ties. */
export interface CursorPosition {
  at: number;
  id: string;
}

/** Opaque to clients: base64url of a small JSON tuple. */
export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.at, position.id])).toString('base64url');
}

/** Returns null for anything that is not a cursor this server issued (the caller answers validation_failed). */
export function decodeCursor(cursor: string): CursorPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string' &&
      isId(value[1])
    ) {
      return { at: value[0] as number, id: value[1] };
    }
  } catch {
    // fall through: not a cursor
  }
  return null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
