import { newId, type Page } from '@app/common';
import type { ListedThread, ThreadEntity } from '../ports/entities';
import type { OwnerScope } from '../ports/owner-scope';
import { type PageQuery, SEARCH_CANDIDATES, type ThreadPatch, ThreadRepository } from '../ports/repositories';
import { searchTerms } from '../search/search-terms';
import { buildSnippet } from '../search/snippet';
import { op } from './mongo-filter';
import type { MongoModels } from './mongo-models';
import { keysetAfter, readCursor, toPage } from './mongo-paging';
import type { ThreadDoc } from './thread.schema';

export function toThread(doc: ThreadDoc): ThreadEntity {
  return {
    id: doc._id,
    ownerId: doc.ownerId,
    title: doc.title,
    model: doc.model,
    systemPrompt: doc.systemPrompt,
    temperature: doc.temperature ?? null,
    maxTokens: doc.maxTokens ?? null,
    activeLeafId: doc.activeLeafId ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export class MongoThreadRepository extends ThreadRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async create(
    scope: OwnerScope,
    input: { title: string; model: string; systemPrompt: string },
  ): Promise<ThreadEntity> {
    const now = new Date();
    const doc: ThreadDoc = {
      _id: newId(),
      ownerId: scope.ownerId,
      title: input.title,
      model: input.model,
      systemPrompt: input.systemPrompt,
      temperature: null,
      maxTokens: null,
      activeLeafId: null,
      leaseHolder: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.m.threads.create(doc);
    return toThread(doc);
  }

  async findById(scope: OwnerScope, id: string): Promise<ThreadEntity | null> {
    const doc = await this.m.threads.findOne({ _id: id, ownerId: scope.ownerId }).lean<ThreadDoc>();
    return doc ? toThread(doc) : null;
  }

  async list(scope: OwnerScope, query: PageQuery & { q?: string }): Promise<Page<ListedThread>> {
    const cursor = readCursor(query.cursor);
    const conditions: Record<string, unknown>[] = [{ ownerId: scope.ownerId }];
    const terms = query.q?.trim() ? searchTerms(query.q) : null;
    let newestMatch: Map<string, string> | null = null;
    if (terms) {
      const found = await this.matching(scope, terms);
      if (found.threadIds.length === 0) {
        return { items: [], nextCursor: null };
      }
      newestMatch = found.newestMatch;
      conditions.push({ _id: op({ $in: found.threadIds }) });
    }
    if (cursor) {
      conditions.push(keysetAfter('updatedAt', cursor));
    }
    const docs = await this.m.threads
      .find({ $and: conditions })
      .sort({ updatedAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<ThreadDoc[]>();
    const page: Page<ListedThread> = toPage(docs, query.limit, (d) => d.updatedAt, toThread);
    if (terms && newestMatch) {
      await this.addMatches(scope, page.items, newestMatch, terms);
    }
    return page;
  }

  /**
   * Ids of the owner's threads whose title, or one of whose messages, contains every word (as the SQLite adapter's
   * FTS query), and for each thread with a matching message the newest one's id. `$text` matches one word at a
   * time, case- and diacritic-insensitively; each further word narrows the documents the previous ones matched. The
   * text indexes lead with `ownerId`, so `$text` reads only this owner's index entries. The last word's query keeps
   * the newest SEARCH_CANDIDATES (ids grow with time) of the messages, and apart of the titles, that matched every
   * word: the SQLite adapter's bound. A one-word search (the common case) is thereby bounded in the database; with
   * more words the earlier ones narrow unbounded.
   */
  private async matching(
    scope: OwnerScope,
    words: string[],
  ): Promise<{ threadIds: string[]; newestMatch: Map<string, string> }> {
    const newestMatch = new Map<string, string>();
    if (words.length === 0) {
      return { threadIds: [], newestMatch };
    }
    let titled: string[] | null = null;
    let messages: { _id: string; threadId: string }[] | null = null;
    for (const [i, word] of words.entries()) {
      const text = op({ $search: word });
      const cap = i === words.length - 1 ? SEARCH_CANDIDATES : 0; // 0: no limit
      if (titled === null || titled.length > 0) {
        const docs: { _id: string }[] = await this.m.threads
          .find(
            titled === null
              ? { ownerId: scope.ownerId, $text: text }
              : { ownerId: scope.ownerId, $text: text, _id: op({ $in: titled }) },
            { _id: 1 },
          )
          .sort({ _id: -1 })
          .limit(cap)
          .lean<{ _id: string }[]>();
        titled = docs.map((d) => d._id);
      }
      if (messages === null || messages.length > 0) {
        messages = await this.m.messages
          .find(
            messages === null
              ? { ownerId: scope.ownerId, $text: text }
              : { ownerId: scope.ownerId, $text: text, _id: op({ $in: messages.map((d) => d._id) }) },
            { _id: 1, threadId: 1 },
          )
          .sort({ _id: -1 })
          .limit(cap)
          .lean<{ _id: string; threadId: string }[]>();
      }
    }
    // Newest first, so a thread's first message here is its newest match.
    for (const message of messages ?? []) {
      if (!newestMatch.has(message.threadId)) {
        newestMatch.set(message.threadId, message._id);
      }
    }
    return { threadIds: [...new Set([...(titled ?? []), ...newestMatch.keys()])], newestMatch };
  }

  /** Sets `match` on the page's threads: their newest matching message's snippet, read for this page only. */
  private async addMatches(
    scope: OwnerScope,
    items: ListedThread[],
    newestMatch: Map<string, string>,
    terms: string[],
  ): Promise<void> {
    const ids = items.flatMap((t) => newestMatch.get(t.id) ?? []);
    const docs =
      ids.length === 0
        ? []
        : await this.m.messages
            .find({ ownerId: scope.ownerId, _id: op({ $in: ids }) }, { _id: 1, threadId: 1, content: 1 })
            .lean<{ _id: string; threadId: string; content: string }[]>();
    const byThread = new Map(docs.map((d) => [d.threadId, d]));
    for (const item of items) {
      const message = byThread.get(item.id);
      // `$text` matches whole words, so only whole words are highlighted.
      item.match = message ? { messageId: message._id, snippet: buildSnippet(message.content, terms, 'word') } : null;
    }
  }

  async update(scope: OwnerScope, id: string, patch: ThreadPatch): Promise<ThreadEntity | null> {
    // An update pipeline, so the new `updatedAt` is computed from the stored one in the same write: activity
    // order stays strict even within one millisecond. Values go in as `$literal` (a title may start with `$`).
    const set: Record<string, unknown> = {
      updatedAt: { $max: [new Date(), { $add: ['$updatedAt', 1] }] },
    };
    if (patch.title !== undefined && patch.title !== null) {
      set.title = { $literal: patch.title };
    }
    if (patch.model !== undefined && patch.model !== null) {
      set.model = { $literal: patch.model };
    }
    if (patch.systemPrompt !== undefined && patch.systemPrompt !== null) {
      set.systemPrompt = { $literal: patch.systemPrompt };
    }
    if (patch.temperature !== undefined) {
      set.temperature = { $literal: patch.temperature };
    }
    if (patch.maxTokens !== undefined) {
      set.maxTokens = { $literal: patch.maxTokens };
    }
    if (patch.activeLeafId !== undefined) {
      set.activeLeafId = { $literal: patch.activeLeafId };
    }
    const doc = await this.m.threads
      .findOneAndUpdate({ _id: id, ownerId: scope.ownerId }, [{ $set: set }], {
        returnDocument: 'after',
        updatePipeline: true,
      })
      .lean<ThreadDoc>();
    return doc ? toThread(doc) : null;
  }

  async delete(scope: OwnerScope, id: string): Promise<boolean> {
    const deleted = (await this.m.threads.deleteOne({ _id: id, ownerId: scope.ownerId })).deletedCount === 1;
    if (deleted) {
      await this.m.messages.deleteMany({ threadId: id, ownerId: scope.ownerId });
    }
    return deleted;
  }

  async listAll(scope: OwnerScope): Promise<ThreadEntity[]> {
    const docs = await this.m.threads
      .find({ ownerId: scope.ownerId })
      .sort({ createdAt: 1, _id: 1 })
      .lean<ThreadDoc[]>();
    return docs.map(toThread);
  }

  async count(since?: Date): Promise<number> {
    return this.m.threads.countDocuments(since ? { createdAt: op({ $gte: since }) } : {});
  }

  async acquireGenerationLease(
    scope: OwnerScope,
    id: string,
    holder: string,
    until: Date,
    now: Date,
  ): Promise<boolean> {
    const result = await this.m.threads.updateOne(
      {
        _id: id,
        ownerId: scope.ownerId,
        $or: [{ leaseHolder: null }, { leaseUntil: op({ $lt: now }) }, { leaseHolder: holder }],
      },
      { $set: { leaseHolder: holder, leaseUntil: until } },
    );
    // matched, not modified: the holder re-taking its lease with the same deadline changes nothing and still holds it.
    return result.matchedCount === 1;
  }

  async renewGenerationLease(scope: OwnerScope, id: string, holder: string, until: Date): Promise<boolean> {
    const result = await this.m.threads.updateOne(
      { _id: id, ownerId: scope.ownerId, leaseHolder: holder },
      { $set: { leaseUntil: until } },
    );
    return result.matchedCount === 1;
  }

  async releaseGenerationLease(scope: OwnerScope, id: string, holder: string): Promise<void> {
    await this.m.threads.updateOne(
      { _id: id, ownerId: scope.ownerId, leaseHolder: holder },
      { $set: { leaseHolder: null, leaseUntil: null } },
    );
  }
}
