import { Schema } from 'mongoose';
import { SCHEMA_OPTIONS } from './schema-options';

export interface ThreadDoc {
  _id: string;
  ownerId: string;
  title: string;
  model: string;
  systemPrompt: string;
  temperature?: number | null;
  maxTokens?: number | null;
  activeLeafId: string | null;
  /** The generation lease: who may generate in this thread, and until when. */
  leaseHolder: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export const threadSchema = new Schema<ThreadDoc>(
  {
    _id: { type: String, required: true },
    ownerId: { type: String, required: true },
    // Strings that may be empty are not `required` (mongoose rejects '' for required strings).
    title: { type: String, default: '' },
    model: { type: String, default: '' },
    systemPrompt: { type: String, default: '' },
    temperature: { type: Number, default: null },
    maxTokens: { type: Number, default: null },
    activeLeafId: { type: String, default: null },
    leaseHolder: { type: String, default: null },
    leaseUntil: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'threads' },
);

threadSchema.index({ ownerId: 1, updatedAt: -1, _id: -1 });
threadSchema.index({ createdAt: 1 });
// Searches are always of one owner's threads; `none`: no stemming or stop words, like SQLite's unicode61.
threadSchema.index({ ownerId: 1, title: 'text' }, { name: 'threads_title_text', default_language: 'none' });
