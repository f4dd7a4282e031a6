import { decodeCursor, encodeCursor, newId, type Page } from '@app/common';
import type { ListedThread, ThreadEntity } from '../ports/entities';
import { searchTerms } from '../search/search-terms';
import { buildSnippet } from '../search/snippet';
import type { OwnerScope } from '../ports/owner-scope';
import { type PageQuery, SEARCH_CANDIDATES, type ThreadPatch, ThreadRepository } from '../ports/repositories';
import { type Db, ownerSearch, prepared } from './sqlite-database';
import { invalidCursor } from './sqlite-paging';

interface ThreadRow {
  id: string;
  owner_id: string;
  title: string;
  model: string;
  system_prompt: string;
  temperature: number | null;
  max_tokens: number | null;
  active_leaf_id: string | null;
  created_at: number;
  updated_at: number;
}

function toThread(row: ThreadRow): ThreadEntity {
  return {
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    model: row.model,
    systemPrompt: row.system_prompt,
    temperature: row.temperature,
    maxTokens: row.max_tokens,
    activeLeafId: row.active_leaf_id,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

const COLUMNS =
  'id, owner_id, title, model, system_prompt, temperature, max_tokens, active_leaf_id, created_at, updated_at';

/**
 * The columns `update` may set, by patch field; `nullLeaves`: a null leaves the column as it is (the others are
 * cleared by a null).
 */
const PATCHABLE: { field: keyof ThreadPatch; column: string; nullLeaves: boolean }[] = [
  { field: 'title', column: 'title', nullLeaves: true },
  { field: 'model', column: 'model', nullLeaves: true },
  { field: 'systemPrompt', column: 'system_prompt', nullLeaves: true },
  { field: 'temperature', column: 'temperature', nullLeaves: false },
  { field: 'maxTokens', column: 'max_tokens', nullLeaves: false },
  { field: 'activeLeafId', column: 'active_leaf_id', nullLeaves: false },
];

export class SqliteThreadRepository extends ThreadRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async create(
    scope: OwnerScope,
    input: { title: string; model: string; systemPrompt: string },
  ): Promise<ThreadEntity> {
    const now = Date.now();
    const row = prepared(
      this.db,
      `INSERT INTO threads (id, owner_id, title, model, system_prompt, active_leaf_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?) RETURNING ${COLUMNS}`,
    ).get(newId(), scope.ownerId, input.title, input.model, input.systemPrompt, now, now) as ThreadRow;
    return toThread(row);
  }

  async findById(scope: OwnerScope, id: string): Promise<ThreadEntity | null> {
    const row = prepared(this.db, `SELECT ${COLUMNS} FROM threads WHERE id = ? AND owner_id = ?`).get(
      id,
      scope.ownerId,
    ) as ThreadRow | undefined;
    return row ? toThread(row) : null;
  }

  async list(scope: OwnerScope, query: PageQuery & { q?: string }): Promise<Page<ListedThread>> {
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (query.cursor && !cursor) {
      throw invalidCursor();
    }
    const params = { owner: scope.ownerId, at: cursor?.at ?? null, id: cursor?.id ?? null, limit: query.limit + 1 };
    const keyset = '(@at IS NULL OR t.updated_at < @at OR (t.updated_at = @at AND t.id < @id))';
    let rows: ThreadRow[];
    let newestMatch: Map<string, number> | null = null;
    if (query.q?.trim()) {
      const search = ownerSearch(scope.ownerId, query.q);
      const found = search ? this.search(search, params, keyset) : { rows: [], newestMatch: new Map() };
      ({ rows, newestMatch } = found);
    } else {
      rows = prepared(
        this.db,
        `SELECT ${COLUMNS} FROM threads t WHERE t.owner_id = @owner AND ${keyset}
         ORDER BY t.updated_at DESC, t.id DESC LIMIT @limit`,
      ).all(params) as ThreadRow[];
    }
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const items: ListedThread[] = page.map(toThread);
    if (newestMatch) {
      this.addMatches(scope, items, newestMatch, searchTerms(query.q ?? ''));
    }
    return {
      items,
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.updated_at, id: last.id }) : null,
    };
  }

  /**
   * A search in two bounded steps. The owner is part of each MATCH (an indexed column), and the prefix indexes let
   * FTS5 hand out the owner's matches newest first without merging anything: the newest SEARCH_CANDIDATES matching
   * messages and titles are taken. Their threads (at most twice that many, found by primary key) are then ordered
   * by activity and paged like the listing. Cost is bounded by the cap, not by how many of a user's million
   * messages contain the word. `newestMatch` maps each thread with a matching candidate message to its newest seq.
   */
  private search(
    search: { titles: string; messages: string },
    params: { owner: string; at: number | null; id: string | null; limit: number },
    keyset: string,
  ): { rows: ThreadRow[]; newestMatch: Map<string, number> } {
    const seqs = prepared(
      this.db,
      `SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ${SEARCH_CANDIDATES}`,
    )
      .pluck()
      .all(search.messages) as number[];
    const titled = prepared(
      this.db,
      `SELECT rowid FROM threads_fts WHERE threads_fts MATCH ? ORDER BY rowid DESC LIMIT ${SEARCH_CANDIDATES}`,
    )
      .pluck()
      .all(search.titles) as number[];
    const newestMatch = new Map<string, number>();
    if (seqs.length === 0 && titled.length === 0) {
      return { rows: [], newestMatch };
    }
    // Newest first, so a thread's first row is its newest match (raw rows: up to SEARCH_CANDIDATES of them).
    const hits = prepared(
      this.db,
      `SELECT thread_id, seq FROM messages WHERE seq IN (SELECT value FROM json_each(?)) AND owner_id = ?
       ORDER BY seq DESC`,
    )
      .raw()
      .all(JSON.stringify(seqs), params.owner) as [string, number][];
    for (const [threadId, seq] of hits) {
      if (!newestMatch.has(threadId)) {
        newestMatch.set(threadId, seq);
      }
    }
    // `+t.owner_id` keeps the planner on the candidates' rowids (instead of walking all the owner's threads); the
    // owner condition stays as the scope's guarantee.
    const rows = prepared(
      this.db,
      `SELECT ${COLUMNS} FROM threads t
       WHERE t.rowid IN (SELECT value FROM json_each(@titled)
                         UNION SELECT c.rowid FROM threads c WHERE c.id IN (SELECT value FROM json_each(@threads)))
         AND +t.owner_id = @owner AND ${keyset}
       ORDER BY t.updated_at DESC, t.id DESC LIMIT @limit`,
    ).all({
      ...params,
      titled: JSON.stringify(titled),
      threads: JSON.stringify([...newestMatch.keys()]),
    }) as ThreadRow[];
    return { rows, newestMatch };
  }

  /** Sets `match` on the page's threads: their newest matching message's snippet, read for this page only. */
  private addMatches(scope: OwnerScope, items: ListedThread[], newestMatch: Map<string, number>, terms: string[]) {
    const seqs = items.flatMap((t) => newestMatch.get(t.id) ?? []);
    const messages = new Map(
      (
        prepared(
          this.db,
          'SELECT id, thread_id, content FROM messages WHERE seq IN (SELECT value FROM json_each(?)) AND owner_id = ?',
        ).all(JSON.stringify(seqs), scope.ownerId) as { id: string; thread_id: string; content: string }[]
      ).map((m) => [m.thread_id, m]),
    );
    for (const item of items) {
      const message = messages.get(item.id);
      item.match = message ? { messageId: message.id, snippet: buildSnippet(message.content, terms, 'prefix') } : null;
    }
  }

  async update(scope: OwnerScope, id: string, patch: ThreadPatch): Promise<ThreadEntity | null> {
    // Only the columns the patch sets: assigning the title, even its own value, re-indexes it (threads_fts_update
    // fires on any UPDATE OF title), and that made every reply's move of the active leaf an FTS write.
    const set = PATCHABLE.filter(
      ({ field, nullLeaves }) => patch[field] !== undefined && !(nullLeaves && patch[field] === null),
    );
    const params: Record<string, unknown> = { id, owner: scope.ownerId, now: Date.now() };
    for (const { field } of set) {
      params[field] = patch[field];
    }
    const assignments = [
      ...set.map(({ field, column }) => `${column} = @${field}`),
      'updated_at = MAX(@now, updated_at + 1)',
    ];
    const row = prepared(
      this.db,
      `UPDATE threads SET ${assignments.join(', ')} WHERE id = @id AND owner_id = @owner RETURNING ${COLUMNS}`,
    ).get(params) as ThreadRow | undefined;
    return row ? toThread(row) : null;
  }

  async delete(scope: OwnerScope, id: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM threads WHERE id = ? AND owner_id = ?').run(id, scope.ownerId).changes === 1;
  }

  async listAll(scope: OwnerScope): Promise<ThreadEntity[]> {
    const rows = prepared(this.db, `SELECT ${COLUMNS} FROM threads WHERE owner_id = ? ORDER BY created_at, id`).all(
      scope.ownerId,
    ) as ThreadRow[];
    return rows.map(toThread);
  }

  async count(since?: Date): Promise<number> {
    return (
      prepared(this.db, 'SELECT COUNT(*) AS n FROM threads WHERE created_at >= ?').get(since?.getTime() ?? 0) as {
        n: number;
      }
    ).n;
  }

  async acquireGenerationLease(
    scope: OwnerScope,
    id: string,
    holder: string,
    until: Date,
    now: Date,
  ): Promise<boolean> {
    return (
      prepared(
        this.db,
        `UPDATE threads SET lease_holder = ?, lease_until = ?
         WHERE id = ? AND owner_id = ? AND (lease_holder IS NULL OR lease_until < ? OR lease_holder = ?)`,
      ).run(holder, until.getTime(), id, scope.ownerId, now.getTime(), holder).changes === 1
    );
  }

  async renewGenerationLease(scope: OwnerScope, id: string, holder: string, until: Date): Promise<boolean> {
    return (
      prepared(this.db, 'UPDATE threads SET lease_until = ? WHERE id = ? AND owner_id = ? AND lease_holder = ?').run(
        until.getTime(),
        id,
        scope.ownerId,
        holder,
      ).changes === 1
    );
  }

  async releaseGenerationLease(scope: OwnerScope, id: string, holder: string): Promise<void> {
    prepared(
      this.db,
      'UPDATE threads SET lease_holder = NULL, lease_until = NULL WHERE id = ? AND owner_id = ? AND lease_holder = ?',
    ).run(id, scope.ownerId, holder);
  }
}
