import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

/** A sign-in: the family its refresh tokens (`refresh_tokens`) rotate in. */
export interface SessionDoc {
  _id: string;
  userId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

export const sessionSchema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastUsedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: { type: Date, default: null },
    userAgent: { type: String, default: null },
    ip: { type: String, default: null },
  },
  { ...SCHEMA_OPTIONS, collection: 'sessions' },
);

sessionSchema.index({ userId: 1 });
