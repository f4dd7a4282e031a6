import { newId } from '@app/common';
import type { ApiKeyEntity } from '../ports/entities';
import { ApiKeyRepository } from '../ports/repositories';
import type { ApiKeyDoc } from './api-key.schema';
import { op } from './mongo-filter';
import type { MongoModels } from './mongo-models';

/** Everything but the digest. */
const PROJECTION = { secretHash: 0 } as const;

function toApiKey(doc: Omit<ApiKeyDoc, 'secretHash'>): ApiKeyEntity {
  return {
    id: doc._id,
    userId: doc.userId,
    name: doc.name,
    prefix: doc.prefix,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt ?? null,
    lastUsedAt: doc.lastUsedAt ?? null,
  };
}

export class MongoApiKeyRepository extends ApiKeyRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async create(
    input: { userId: string; name: string; prefix: string; secretHash: string; expiresAt: Date | null },
    maxPerUser: number,
  ): Promise<ApiKeyEntity | null> {
    if ((await this.m.apiKeys.countDocuments({ userId: input.userId })) >= maxPerUser) {
      return null;
    }
    const doc: ApiKeyDoc = {
      _id: newId(),
      userId: input.userId,
      name: input.name,
      prefix: input.prefix,
      secretHash: input.secretHash,
      createdAt: new Date(),
      expiresAt: input.expiresAt,
      lastUsedAt: null,
    };
    await this.m.apiKeys.create(doc);
    // Without a transaction, racing creations may both pass the count: whoever finds the user over the limit
    // afterwards takes its own key back, so the limit holds (at worst both give up).
    if ((await this.m.apiKeys.countDocuments({ userId: input.userId })) > maxPerUser) {
      await this.m.apiKeys.deleteOne({ _id: doc._id });
      return null;
    }
    return toApiKey(doc);
  }

  async findBySecretHash(secretHash: string): Promise<ApiKeyEntity | null> {
    const doc = await this.m.apiKeys.findOne({ secretHash }, PROJECTION).lean<ApiKeyDoc>();
    return doc ? toApiKey(doc) : null;
  }

  async listForUser(userId: string): Promise<ApiKeyEntity[]> {
    const docs = await this.m.apiKeys.find({ userId }, PROJECTION).sort({ createdAt: -1, _id: -1 }).lean<ApiKeyDoc[]>();
    return docs.map(toApiKey);
  }

  async delete(userId: string, id: string): Promise<boolean> {
    return (await this.m.apiKeys.deleteOne({ _id: id, userId })).deletedCount === 1;
  }

  async touch(id: string, at: Date, olderThan: Date): Promise<boolean> {
    const result = await this.m.apiKeys.updateOne(
      { _id: id, $or: [{ lastUsedAt: null }, { lastUsedAt: op({ $lt: olderThan }) }] },
      { $set: { lastUsedAt: at } },
    );
    return result.modifiedCount === 1;
  }
}
