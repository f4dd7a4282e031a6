import { newId } from '@app/common';
import type { MessageEntity } from '../ports/entities';
import type { OwnerScope } from '../ports/owner-scope';
import { type BranchPage, MessageRepository, type NewMessage, type ReplyProgress } from '../ports/repositories';
import type { MessageDoc } from './message.schema';
import { isDuplicateKey } from './mongo-errors';
import { op } from './mongo-filter';
import type { MongoModels } from './mongo-models';

function toMessage(doc: MessageDoc): MessageEntity {
  const prompt = doc.promptTokens ?? null;
  const completion = doc.completionTokens ?? null;
  return {
    id: doc._id,
    threadId: doc.threadId,
    ownerId: doc.ownerId,
    parentId: doc.parentId ?? null,
    role: doc.role,
    content: doc.content,
    reasoning: doc.reasoning ?? null,
    model: doc.model,
    status: doc.status,
    usage: prompt === null || completion === null ? null : { promptTokens: prompt, completionTokens: completion },
    clientMessageId: doc.clientMessageId ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export class MongoMessageRepository extends MessageRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async create(scope: OwnerScope, input: NewMessage): Promise<{ message: MessageEntity; created: boolean }> {
    // The thread must belong to the scope's owner.
    if ((await this.m.threads.exists({ _id: input.threadId, ownerId: scope.ownerId })) === null) {
      throw new Error('Message insert failed: thread not found for owner');
    }
    const now = new Date();
    const doc: MessageDoc = {
      _id: newId(),
      threadId: input.threadId,
      ownerId: scope.ownerId,
      parentId: input.parentId,
      role: input.role,
      content: input.content,
      reasoning: null,
      model: input.model,
      status: input.status,
      promptTokens: input.usage?.promptTokens ?? null,
      completionTokens: input.usage?.completionTokens ?? null,
      clientMessageId: input.clientMessageId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.m.messages.create(doc);
      return { message: toMessage(doc), created: true };
    } catch (err) {
      // A repeat of the client's id in this thread, even one racing this insert, meets the unique index.
      if (input.clientMessageId && isDuplicateKey(err, 'clientMessageId')) {
        const existing = await this.findByClientMessageId(scope, input.threadId, input.clientMessageId);
        if (existing) {
          return { message: existing, created: false };
        }
      }
      throw err;
    }
  }

  async findById(scope: OwnerScope, id: string): Promise<MessageEntity | null> {
    const doc = await this.m.messages.findOne({ _id: id, ownerId: scope.ownerId }).lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  async findByClientMessageId(
    scope: OwnerScope,
    threadId: string,
    clientMessageId: string,
  ): Promise<MessageEntity | null> {
    const doc = await this.m.messages.findOne({ threadId, clientMessageId, ownerId: scope.ownerId }).lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  async update(
    scope: OwnerScope,
    id: string,
    patch: Partial<Pick<MessageEntity, 'content' | 'reasoning' | 'status' | 'usage'>>,
  ): Promise<MessageEntity | null> {
    const set: Partial<MessageDoc> = { updatedAt: new Date() };
    if (patch.content !== undefined && patch.content !== null) {
      set.content = patch.content;
    }
    if (patch.reasoning !== undefined && patch.reasoning !== null) {
      set.reasoning = patch.reasoning;
    }
    if (patch.status !== undefined && patch.status !== null) {
      set.status = patch.status;
    }
    if (patch.usage !== undefined) {
      set.promptTokens = patch.usage?.promptTokens ?? null;
      set.completionTokens = patch.usage?.completionTokens ?? null;
    }
    const doc = await this.m.messages
      .findOneAndUpdate({ _id: id, ownerId: scope.ownerId }, { $set: set }, { returnDocument: 'after' })
      .lean<MessageDoc>();
    return doc ? toMessage(doc) : null;
  }

  async saveProgress(items: readonly ReplyProgress[]): Promise<void> {
    if (items.length === 0) {
      return;
    }
    const updatedAt = new Date();
    // One round trip for every reply of the flush; each update stands alone (unordered).
    await this.m.messages.bulkWrite(
      items.map((item) => ({
        updateOne: {
          filter: { _id: item.id, ownerId: item.scope.ownerId, status: 'streaming' },
          update: {
            $set: {
              content: item.content,
              updatedAt,
              ...(item.reasoning !== null ? { reasoning: item.reasoning } : {}),
            },
          },
        },
      })),
      { ordered: false },
    );
  }

  async branch(
    scope: OwnerScope,
    threadId: string,
    leafId: string,
    query: { limit: number; before?: string | null },
  ): Promise<BranchPage> {
    let empty: BranchPage = { items: [], nextBefore: null, total: 0 };
    // Walk from the leaf to the root over the thread's (id, parent) pairs, read once: chain[0] is the leaf.
    const links = await this.m.messages
      .find({ threadId, ownerId: scope.ownerId }, { _id: 1, parentId: 1 })
      .lean<{ _id: string; parentId: string | null }[]>();
    const parentOf = new Map(links.map((l) => [l._id, l.parentId ?? null]));
    const chain: string[] = [];
    const seen = new Set<string>();
    let id: string | null = leafId;
    while (id !== null && parentOf.has(id) && !seen.has(id)) {
      chain.push(id);
      seen.add(id);
      id = parentOf.get(id) ?? null;
    }
    empty = { ...empty, total: chain.length };
    // Older than `before` (a message on this branch): the `limit` nearest ancestors, plus one to see if more remain.
    const before = query.before ?? null;
    const start = before === null ? -1 : chain.indexOf(before);
    if (chain.length === 0 || (before !== null && start === -1)) {
      return empty;
    }
    const picked = chain.slice(start + 1, start + 1 + query.limit + 1);
    const page = picked.slice(0, query.limit);
    if (page.length === 0) {
      return empty;
    }
    const docs = await this.m.messages
      .find({ _id: op({ $in: page }), threadId, ownerId: scope.ownerId })
      .lean<MessageDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, d]));
    const items = page
      .map((pageId) => byId.get(pageId))
      .filter((d): d is MessageDoc => d !== undefined)
      .reverse()
      .map(toMessage);
    return { items, nextBefore: picked.length > query.limit ? page[page.length - 1] : null, total: chain.length };
  }

  async listTree(scope: OwnerScope, threadId: string): Promise<MessageEntity[]> {
    const docs = await this.m.messages
      .find({ threadId, ownerId: scope.ownerId })
      .sort({ createdAt: 1, _id: 1 })
      .lean<MessageDoc[]>();
    return docs.map(toMessage);
  }

  async children(scope: OwnerScope, threadId: string, parentId: string | null): Promise<MessageEntity[]> {
    const docs = await this.m.messages
      .find({ threadId, ownerId: scope.ownerId, parentId })
      .sort({ createdAt: 1, _id: 1 })
      .lean<MessageDoc[]>();
    return docs.map(toMessage);
  }

  async failStale(olderThan: Date): Promise<number> {
    const result = await this.m.messages.updateMany(
      { status: 'streaming', updatedAt: op({ $lt: olderThan }) },
      { $set: { status: 'error', updatedAt: new Date() } },
    );
    return result.modifiedCount;
  }

  async claimInterrupted(olderThan: Date, limit: number): Promise<MessageEntity[]> {
    const candidates = await this.m.messages
      .find({ status: 'streaming', updatedAt: op({ $lt: olderThan }) }, { _id: 1 })
      .limit(limit)
      .lean<Pick<MessageDoc, '_id'>[]>();
    const claimed: MessageEntity[] = [];
    for (const { _id } of candidates) {
      // Conditional on the state it was found in: of several sweepers, exactly one gets each reply back.
      const doc = await this.m.messages
        .findOneAndUpdate(
          { _id, status: 'streaming', updatedAt: op({ $lt: olderThan }) },
          { $set: { status: 'error', updatedAt: new Date() } },
          { returnDocument: 'after' },
        )
        .lean<MessageDoc>();
      if (doc) {
        claimed.push(toMessage(doc));
      }
    }
    return claimed;
  }

  async count(since?: Date): Promise<number> {
    return this.m.messages.countDocuments(since ? { createdAt: op({ $gte: since }) } : {});
  }
}
