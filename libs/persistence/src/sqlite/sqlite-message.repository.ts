import { newId } from '@app/common';
import type { MessageEntity, MessageRole, MessageStatus } from '../ports/entities';
import type { OwnerScope } from '../ports/owner-scope';
import { type BranchPage, MessageRepository, type NewMessage, type ReplyProgress } from '../ports/repositories';
import { type Db, prepared } from './sqlite-database';

interface MessageRow {
  id: string;
  thread_id: string;
  owner_id: string;
  parent_id: string | null;
  role: MessageRole;
  content: string;
  reasoning: string | null;
  model: string;
  status: MessageStatus;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  client_message_id: string | null;
  created_at: number;
  updated_at: number;
}

function toMessage(row: MessageRow): MessageEntity {
  return {
    id: row.id,
    threadId: row.thread_id,
    ownerId: row.owner_id,
    parentId: row.parent_id,
    role: row.role,
    content: row.content,
    reasoning: row.reasoning,
    model: row.model,
    status: row.status,
    usage:
      row.prompt_tokens === null || row.completion_tokens === null
        ? null
        : { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
    clientMessageId: row.client_message_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** The branch from the leaf up to the root: depth 0 is the leaf. */
const CHAIN = `WITH RECURSIVE chain(id, parent_id, depth) AS (
  SELECT id, parent_id, 0 FROM messages WHERE id = @leaf AND thread_id = @thread AND owner_id = @owner
  UNION ALL
  SELECT m.id, m.parent_id, c.depth + 1 FROM messages m JOIN chain c ON m.id = c.parent_id
)`;

const COLUMNS =
  'id, thread_id, owner_id, parent_id, role, content, reasoning, model, status, prompt_tokens, completion_tokens, client_message_id, created_at, updated_at';

export class SqliteMessageRepository extends MessageRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(scope: OwnerScope, input: NewMessage): Promise<{ message: MessageEntity; created: boolean }> {
    const now = Date.now();
    // The thread must belong to the scope's owner: the INSERT ... SELECT inserts nothing otherwise.
    const row = prepared(
      this.db,
      `INSERT INTO messages (id, thread_id, owner_id, parent_id, role, content, model, status,
                             prompt_tokens, completion_tokens, client_message_id, created_at, updated_at)
       SELECT @id, t.id, t.owner_id, @parentId, @role, @content, @model, @status,
              @promptTokens, @completionTokens, @clientMessageId, @now, @now
       FROM threads t WHERE t.id = @threadId AND t.owner_id = @owner
       ON CONFLICT DO NOTHING
       RETURNING ${COLUMNS}`,
    ).get({
      id: newId(),
      threadId: input.threadId,
      owner: scope.ownerId,
      parentId: input.parentId,
      role: input.role,
      content: input.content,
      model: input.model,
      status: input.status,
      promptTokens: input.usage?.promptTokens ?? null,
      completionTokens: input.usage?.completionTokens ?? null,
      clientMessageId: input.clientMessageId ?? null,
      now,
    }) as MessageRow | undefined;
    if (row) {
      return { message: toMessage(row), created: true };
    }
    if (input.clientMessageId) {
      const existing = await this.findByClientMessageId(scope, input.threadId, input.clientMessageId);
      if (existing) {
        return { message: existing, created: false };
      }
    }
    throw new Error('Message insert failed: thread not found for owner');
  }

  async findById(scope: OwnerScope, id: string): Promise<MessageEntity | null> {
    const row = prepared(this.db, `SELECT ${COLUMNS} FROM messages WHERE id = ? AND owner_id = ?`).get(
      id,
      scope.ownerId,
    ) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async findByClientMessageId(
    scope: OwnerScope,
    threadId: string,
    clientMessageId: string,
  ): Promise<MessageEntity | null> {
    const row = prepared(
      this.db,
      `SELECT ${COLUMNS} FROM messages WHERE thread_id = ? AND client_message_id = ? AND owner_id = ?`,
    ).get(threadId, clientMessageId, scope.ownerId) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async update(
    scope: OwnerScope,
    id: string,
    patch: Partial<Pick<MessageEntity, 'content' | 'reasoning' | 'status' | 'usage'>>,
  ): Promise<MessageEntity | null> {
    const row = prepared(
      this.db,
      `UPDATE messages SET
         content = COALESCE(@content, content),
         reasoning = COALESCE(@reasoning, reasoning),
         status = COALESCE(@status, status),
         prompt_tokens = CASE WHEN @setUsage = 1 THEN @promptTokens ELSE prompt_tokens END,
         completion_tokens = CASE WHEN @setUsage = 1 THEN @completionTokens ELSE completion_tokens END,
         updated_at = @now
       WHERE id = @id AND owner_id = @owner RETURNING ${COLUMNS}`,
    ).get({
      id,
      owner: scope.ownerId,
      content: patch.content ?? null,
      reasoning: patch.reasoning ?? null,
      status: patch.status ?? null,
      setUsage: patch.usage === undefined ? 0 : 1,
      promptTokens: patch.usage?.promptTokens ?? null,
      completionTokens: patch.usage?.completionTokens ?? null,
      now: Date.now(),
    }) as MessageRow | undefined;
    return row ? toMessage(row) : null;
  }

  async saveProgress(items: readonly ReplyProgress[]): Promise<void> {
    if (items.length === 0) {
      return;
    }
    // One transaction: one commit (one WAL append) for every reply of the flush, and no RETURNING to read back.
    const save = prepared(
      this.db,
      `UPDATE messages SET content = @content, reasoning = COALESCE(@reasoning, reasoning), updated_at = @now
       WHERE id = @id AND owner_id = @owner AND status = 'streaming'`,
    );
    const now = Date.now();
    this.db.transaction(() => {
      for (const item of items) {
        save.run({ id: item.id, owner: item.scope.ownerId, content: item.content, reasoning: item.reasoning, now });
      }
    })();
  }

  async branch(
    scope: OwnerScope,
    threadId: string,
    leafId: string,
    query: { limit: number; before?: string | null },
  ): Promise<BranchPage> {
    // Walk from the leaf to the root (depth 0 = leaf), then take the `limit` nearest ancestors of `before`.
    const params = {
      leaf: leafId,
      thread: threadId,
      owner: scope.ownerId,
      before: query.before ?? null,
      limit: query.limit + 1,
    };
    const rows = prepared(
      this.db,
      `${CHAIN},
       start AS (SELECT COALESCE((SELECT depth FROM chain WHERE id = @before), CASE WHEN @before IS NULL THEN -1 END) AS d)
       SELECT ${COLUMNS.split(', ')
         .map((c) => `m.${c}`)
         .join(', ')}, c.depth, (SELECT COUNT(*) FROM chain) AS total FROM chain c JOIN messages m ON m.id = c.id, start
       WHERE start.d IS NOT NULL AND c.depth > start.d
       ORDER BY c.depth ASC LIMIT @limit`,
    ).all(params) as (MessageRow & { depth: number; total: number })[];
    const total =
      rows[0]?.total ?? (prepared(this.db, `${CHAIN} SELECT COUNT(*) AS n FROM chain`).get(params) as { n: number }).n;
    const page = rows.slice(0, query.limit);
    const oldest = page[page.length - 1];
    return {
      items: page.reverse().map(toMessage),
      nextBefore: rows.length > query.limit && oldest ? oldest.id : null,
      total,
    };
  }

  async listTree(scope: OwnerScope, threadId: string): Promise<MessageEntity[]> {
    const rows = prepared(
      this.db,
      `SELECT ${COLUMNS} FROM messages WHERE thread_id = ? AND owner_id = ? ORDER BY created_at, seq`,
    ).all(threadId, scope.ownerId) as MessageRow[];
    return rows.map(toMessage);
  }

  async children(scope: OwnerScope, threadId: string, parentId: string | null): Promise<MessageEntity[]> {
    const rows = prepared(
      this.db,
      `SELECT ${COLUMNS} FROM messages WHERE thread_id = @thread AND owner_id = @owner AND parent_id IS @parent
       ORDER BY created_at, seq`,
    ).all({ thread: threadId, owner: scope.ownerId, parent: parentId }) as MessageRow[];
    return rows.map(toMessage);
  }

  async failStale(olderThan: Date): Promise<number> {
    return prepared(
      this.db,
      "UPDATE messages SET status = 'error', updated_at = ? WHERE status = 'streaming' AND updated_at < ?",
    ).run(Date.now(), olderThan.getTime()).changes;
  }

  async claimInterrupted(olderThan: Date, limit: number): Promise<MessageEntity[]> {
    // One statement: SQLite runs it under the write lock, so a row is claimed by one process only.
    const rows = prepared(
      this.db,
      `UPDATE messages SET status = 'error', updated_at = @now
       WHERE seq IN (SELECT seq FROM messages WHERE status = 'streaming' AND updated_at < @olderThan LIMIT @limit)
         AND status = 'streaming'
       RETURNING ${COLUMNS}`,
    ).all({ now: Date.now(), olderThan: olderThan.getTime(), limit }) as MessageRow[];
    return rows.map(toMessage);
  }

  async count(since?: Date): Promise<number> {
    return (
      prepared(this.db, 'SELECT COUNT(*) AS n FROM messages WHERE created_at >= ?').get(since?.getTime() ?? 0) as {
        n: number;
      }
    ).n;
  }
}
