import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

/** One refresh token of a session, stored only as its hash; `usedAt` is set once, when it is rotated. */
export interface RefreshTokenDoc {
  _id: string;
  tokenHash: string;
  sessionId: string;
  expiresAt: Date;
  usedAt: Date | null;
  /** Set with `usedAt`: the token that replaced this one (hash), and that token sealed with this one (the grace). */
  successorHash?: string | null;
  successorSealed?: string | null;
}

export const refreshTokenSchema = new Schema<RefreshTokenDoc>(
  {
    _id: { type: String, required: true },
    tokenHash: { type: String, required: true },
    sessionId: { type: String, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    successorHash: { type: String, default: null },
    successorSealed: { type: String, default: null },
  },
  { ...SCHEMA_OPTIONS, collection: 'refresh_tokens' },
);

refreshTokenSchema.index({ tokenHash: 1 }, { unique: true });
refreshTokenSchema.index({ sessionId: 1 });
