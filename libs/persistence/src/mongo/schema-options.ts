import type { SchemaOptions } from 'mongoose';

/**
 * Options shared by every schema: ids are `newId()` strings set by the adapter (no ObjectId, no `id` virtual), no
 * `__v`, unknown paths dropped from writes (`strict`) and from filters (`strictQuery`, which mongoose reads from
 * the schema, not the connection), and empty objects kept (audit `meta: {}`).
 */
export const SCHEMA_OPTIONS = {
  versionKey: false,
  id: false,
  strict: true,
  strictQuery: true,
  minimize: false,
} as const satisfies SchemaOptions;
