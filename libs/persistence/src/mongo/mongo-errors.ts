/**
 * True for MongoDB's duplicate-key error (E11000). With `field`, only when that field's unique index was the one
 * violated, read from the server's `keyPattern` (or, failing that, the index name in the message).
 */
export function isDuplicateKey(err: unknown, field?: string): boolean {
  const e = err as { code?: unknown; keyPattern?: Record<string, unknown>; message?: unknown } | null;
  if (e?.code !== 11000) {
    return false;
  }
  if (field === undefined) {
    return true;
  }
  if (e.keyPattern) {
    return Object.hasOwn(e.keyPattern, field);
  }
  return typeof e.message === 'string' && e.message.includes(`${field}_`);
}
