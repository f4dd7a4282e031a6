import { type Collection, type Connection, createConnection, type Model, type mongo, type Schema } from 'mongoose';
import { type ApiKeyDoc, apiKeySchema } from './api-key.schema';
import { type AuditEntryDoc, auditEntrySchema } from './audit-entry.schema';
import { type MessageDoc, messageSchema } from './message.schema';
import { type RefreshTokenDoc, refreshTokenSchema } from './refresh-token.schema';
import { type SessionDoc, sessionSchema } from './session.schema';
import { type ThreadDoc, threadSchema } from './thread.schema';
import { type QuotaLockDoc, quotaLockSchema, type TokenUsageDoc, tokenUsageSchema } from './token-usage.schema';
import { type UserDoc, userSchema } from './user.schema';

/** The injection token of the adapter's `MongoModels`; not exported from the module. */
export const MONGO_MODELS = Symbol('MONGO_MODELS');

/** The one connection of the adapter and its models; nothing outside `mongo/` ever sees them. */
export interface MongoModels {
  connection: Connection;
  users: Model<UserDoc>;
  sessions: Model<SessionDoc>;
  refreshTokens: Model<RefreshTokenDoc>;
  threads: Model<ThreadDoc>;
  messages: Model<MessageDoc>;
  auditEntries: Model<AuditEntryDoc>;
  tokenUsage: Model<TokenUsageDoc>;
  quotaLocks: Model<QuotaLockDoc>;
  apiKeys: Model<ApiKeyDoc>;
}

/**
 * Connects and creates every index before the first request, so the uniqueness rules the repositories rely on
 * (emails, refresh tokens, API key digests, client message ids, the first admin) hold from the start. Fails the boot otherwise.
 */
export async function openMongo(uri: string): Promise<MongoModels> {
  const connection = createConnection(uri, {
    // Filters wrap any `$`-keyed object from input in `$eq`; our own operators go through `op()`.
    sanitizeFilter: true,
    // Indexes are created here, awaited, rather than in the background by each model.
    autoIndex: false,
    autoCreate: false,
  });
  const models: MongoModels = {
    connection,
    users: connection.model<UserDoc>('User', userSchema),
    sessions: connection.model<SessionDoc>('Session', sessionSchema),
    refreshTokens: connection.model<RefreshTokenDoc>('RefreshToken', refreshTokenSchema),
    threads: connection.model<ThreadDoc>('Thread', threadSchema),
    messages: connection.model<MessageDoc>('Message', messageSchema),
    auditEntries: connection.model<AuditEntryDoc>('AuditEntry', auditEntrySchema),
    tokenUsage: connection.model<TokenUsageDoc>('TokenUsage', tokenUsageSchema),
    quotaLocks: connection.model<QuotaLockDoc>('QuotaLock', quotaLockSchema),
    apiKeys: connection.model<ApiKeyDoc>('ApiKey', apiKeySchema),
  };
  try {
    await connection.asPromise();
    for (const model of [
      models.users,
      models.sessions,
      models.refreshTokens,
      models.threads,
      models.messages,
      models.auditEntries,
      models.tokenUsage,
      models.apiKeys,
      models.quotaLocks,
    ]) {
      await createSchemaIndexes(model);
    }
  } catch (err) {
    await connection.close(true);
    throw err;
  }
  return models;
}

/**
 * Creates the schema's indexes through the driver. (`Model.createIndexes()` also reports a failure as an `error`
 * event on the model, which throws where nobody listens and leaves its promise pending.)
 */
async function createSchemaIndexes(model: { schema: Schema; collection: Collection }): Promise<void> {
  const indexes = model.schema.indexes().map(([key, options]) => ({ ...options, key }) as mongo.IndexDescription);
  if (indexes.length > 0) {
    await model.collection.createIndexes(indexes);
  }
}
