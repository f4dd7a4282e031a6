import { decodeCursor, encodeCursor, newId, type Page } from '@app/common';
import type { AuditEntry } from '../ports/entities';
import { AuditRepository, type PageQuery } from '../ports/repositories';
import { type Db, prepared } from './sqlite-database';
import { invalidCursor } from './sqlite-paging';

interface AuditRow {
  id: string;
  actor_id: string | null;
  action: string;
  target_id: string | null;
  ip: string | null;
  meta: string;
  created_at: number;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    actorId: row.actor_id,
    action: row.action,
    targetId: row.target_id,
    ip: row.ip,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    createdAt: new Date(row.created_at),
  };
}

export class SqliteAuditRepository extends AuditRepository {
  constructor(private readonly db: Db) {
    super();
  }

  async record(entry: Omit<AuditEntry, 'id' | 'createdAt'> & { createdAt?: Date }): Promise<AuditEntry> {
    const row = prepared(
      this.db,
      `INSERT INTO audit_entries (id, actor_id, action, target_id, ip, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ).get(
      newId(),
      entry.actorId,
      entry.action,
      entry.targetId,
      entry.ip,
      JSON.stringify(entry.meta ?? {}),
      (entry.createdAt ?? new Date()).getTime(),
    ) as AuditRow;
    return toEntry(row);
  }

  async list(query: PageQuery & { action?: string; actorId?: string; targetId?: string }): Promise<Page<AuditEntry>> {
    const cursor = query.cursor ? decodeCursor(query.cursor) : null;
    if (query.cursor && !cursor) {
      throw invalidCursor();
    }
    const rows = prepared(
      this.db,
      `SELECT * FROM audit_entries
       WHERE (@action IS NULL OR action = @action)
         AND (@actor IS NULL OR actor_id = @actor)
         AND (@target IS NULL OR target_id = @target)
         AND (@at IS NULL OR created_at < @at OR (created_at = @at AND id < @id))
       ORDER BY created_at DESC, id DESC LIMIT @limit`,
    ).all({
      action: query.action ?? null,
      actor: query.actorId ?? null,
      target: query.targetId ?? null,
      at: cursor?.at ?? null,
      id: cursor?.id ?? null,
      limit: query.limit + 1,
    }) as AuditRow[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toEntry),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ at: last.created_at, id: last.id }) : null,
    };
  }
}
