import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

/** A personal API key: the SHA-256 digest of its secret, never the secret. */
export interface ApiKeyDoc {
  _id: string;
  userId: string;
  name: string;
  prefix: string;
  secretHash: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export const apiKeySchema = new Schema<ApiKeyDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    name: { type: String, required: true },
    prefix: { type: String, required: true },
    secretHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, default: null },
    lastUsedAt: { type: Date, default: null },
  },
  { ...SCHEMA_OPTIONS, collection: 'api_keys' },
);

// Every authenticated request by key looks it up by digest: a unique index, never a scan.
apiKeySchema.index({ secretHash: 1 }, { unique: true });
apiKeySchema.index({ userId: 1, createdAt: -1, _id: -1 });
