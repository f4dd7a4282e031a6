import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

/** Tokens one reply spent, attributed to its user at `at`. */
export interface TokenUsageDoc {
  _id: string;
  userId: string;
  at: Date;
  promptTokens: number;
  completionTokens: number;
  /** A reservation not settled yet: tokens set aside against the daily quota until `reservedUntil`. */
  reservedTokens?: number;
  reservedUntil?: Date | null;
}

/** One per user: bumped by every quota reservation, so that racing reservations are serialised (compare-and-set). */
export interface QuotaLockDoc {
  _id: string;
  version: number;
}

export const quotaLockSchema = new Schema<QuotaLockDoc>(
  { _id: { type: String, required: true }, version: { type: Number, required: true } },
  { ...SCHEMA_OPTIONS, collection: 'quota_locks' },
);

export const tokenUsageSchema = new Schema<TokenUsageDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    at: { type: Date, required: true },
    promptTokens: { type: Number, required: true },
    completionTokens: { type: Number, required: true },
    reservedTokens: { type: Number, default: 0 },
    reservedUntil: { type: Date, default: null },
  },
  { ...SCHEMA_OPTIONS, collection: 'token_usage' },
);

tokenUsageSchema.index({ userId: 1, at: 1 });
tokenUsageSchema.index({ at: 1 });
