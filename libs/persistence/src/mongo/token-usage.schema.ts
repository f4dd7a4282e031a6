import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

/** Tokens one reply spent, attributed to its user at `at`. */
export interface TokenUsageDoc {
  _id: string;
  userId: string;
  at: Date;
  promptTokens: number;
  completionTokens: number;
}

export const tokenUsageSchema = new Schema<TokenUsageDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    at: { type: Date, required: true },
    promptTokens: { type: Number, required: true },
    completionTokens: { type: Number, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'token_usage' },
);

tokenUsageSchema.index({ userId: 1, at: 1 });
tokenUsageSchema.index({ at: 1 });
