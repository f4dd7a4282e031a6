import { AppError, type CursorPosition, decodeCursor, encodeCursor, type Page } from '@app/common';
import { op } from './mongo-filter';

/** The keyset position of `cursor`; null without one; validation_failed for anything this server did not issue. */
export function readCursor(cursor: string | null | undefined): CursorPosition | null {
  if (!cursor) {
    return null;
  }
  const position = decodeCursor(cursor);
  if (!position) {
    throw AppError.validation([{ field: 'cursor', message: 'cursor is not valid' }]);
  }
  return position;
}

/** Documents strictly after `position` in `(field desc, _id desc)` order. */
export function keysetAfter(field: string, position: CursorPosition): Record<string, unknown> {
  const at = new Date(position.at);
  return { $or: [{ [field]: op({ $lt: at }) }, { [field]: at, _id: op({ $lt: position.id }) }] };
}

/** Turns `limit + 1` fetched documents into a page whose cursor points at the last one kept. */
export function toPage<D extends { _id: string }, T>(
  docs: D[],
  limit: number,
  at: (doc: D) => Date,
  map: (doc: D) => T,
): Page<T> {
  const kept = docs.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    items: kept.map(map),
    nextCursor: docs.length > limit && last ? encodeCursor({ at: at(last).getTime(), id: last._id }) : null,
  };
}
