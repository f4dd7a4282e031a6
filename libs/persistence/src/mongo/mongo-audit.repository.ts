import { newId, type Page } from '@app/common';
import type { AuditEntry } from '../ports/entities';
import { AuditRepository, type PageQuery } from '../ports/repositories';
import type { AuditEntryDoc } from './audit-entry.schema';
import type { MongoModels } from './mongo-models';
import { keysetAfter, readCursor, toPage } from './mongo-paging';

function toEntry(doc: AuditEntryDoc): AuditEntry {
  return {
    id: doc._id,
    actorId: doc.actorId ?? null,
    action: doc.action,
    targetId: doc.targetId ?? null,
    ip: doc.ip ?? null,
    meta: doc.meta ?? {},
    createdAt: doc.createdAt,
  };
}

export class MongoAuditRepository extends AuditRepository {
  constructor(private readonly m: MongoModels) {
    super();
  }

  async record(entry: Omit<AuditEntry, 'id' | 'createdAt'> & { createdAt?: Date }): Promise<AuditEntry> {
    const doc: AuditEntryDoc = {
      _id: newId(),
      actorId: entry.actorId,
      action: entry.action,
      targetId: entry.targetId,
      ip: entry.ip,
      meta: { ...(entry.meta ?? {}) },
      createdAt: entry.createdAt ?? new Date(),
    };
    await this.m.auditEntries.create(doc);
    return toEntry(doc);
  }

  async list(query: PageQuery & { action?: string; actorId?: string; targetId?: string }): Promise<Page<AuditEntry>> {
    const cursor = readCursor(query.cursor);
    const conditions: Record<string, unknown>[] = [];
    if (query.action !== undefined && query.action !== null) {
      conditions.push({ action: query.action });
    }
    if (query.actorId !== undefined && query.actorId !== null) {
      conditions.push({ actorId: query.actorId });
    }
    if (query.targetId !== undefined && query.targetId !== null) {
      conditions.push({ targetId: query.targetId });
    }
    if (cursor) {
      conditions.push(keysetAfter('createdAt', cursor));
    }
    const docs = await this.m.auditEntries
      .find(conditions.length > 0 ? { $and: conditions } : {})
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .lean<AuditEntryDoc[]>();
    return toPage(docs, query.limit, (d) => d.createdAt, toEntry);
  }
}
