import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

export interface AuditEntryDoc {
  _id: string;
  actorId: string | null;
  action: string;
  targetId: string | null;
  ip: string | null;
  meta: Record<string, unknown>;
  createdAt: Date;
}

export const auditEntrySchema = new Schema<AuditEntryDoc>(
  {
    _id: { type: String, required: true },
    actorId: { type: String, default: null },
    action: { type: String, required: true },
    targetId: { type: String, default: null },
    ip: { type: String, default: null },
    meta: { type: Schema.Types.Mixed, default: () => ({}) },
    createdAt: { type: Date, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'audit_entries' },
);

auditEntrySchema.index({ createdAt: -1, _id: -1 });
// The admin console filters the log by who acted or whom it was about.
auditEntrySchema.index({ actorId: 1, createdAt: -1, _id: -1 });
auditEntrySchema.index({ targetId: 1, createdAt: -1, _id: -1 });
