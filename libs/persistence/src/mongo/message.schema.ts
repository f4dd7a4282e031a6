import { Schema } from 'mongoose';
import type { MessageRole, MessageStatus } from '../ports/entities';
import { SCHEMA_OPTIONS } from './schema-options';

export interface MessageDoc {
  _id: string;
  threadId: string;
  ownerId: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  reasoning?: string | null;
  model: string;
  status: MessageStatus;
  /** Usage is both token counts or neither (null). */
  promptTokens: number | null;
  completionTokens: number | null;
  clientMessageId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const messageSchema = new Schema<MessageDoc>(
  {
    _id: { type: String, required: true },
    threadId: { type: String, required: true },
    ownerId: { type: String, required: true },
    parentId: { type: String, default: null },
    role: { type: String, enum: ['user', 'assistant'], required: true },
    // A streaming reply starts empty, so content is not `required` (mongoose rejects '' for required strings).
    content: { type: String, default: '' },
    reasoning: { type: String, default: null },
    model: { type: String, default: '' },
    status: { type: String, enum: ['complete', 'streaming', 'stopped', 'error'], required: true },
    promptTokens: { type: Number, default: null },
    completionTokens: { type: Number, default: null },
    clientMessageId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'messages' },
);

messageSchema.index({ threadId: 1, createdAt: 1, _id: 1 });
messageSchema.index({ threadId: 1, parentId: 1 });
// At most one message per thread and client id; messages without one are left out of the index.
messageSchema.index(
  { threadId: 1, clientMessageId: 1 },
  { unique: true, partialFilterExpression: { clientMessageId: { $type: 'string' } } },
);
messageSchema.index({ updatedAt: 1 }, { partialFilterExpression: { status: 'streaming' } });
messageSchema.index({ createdAt: 1 });
messageSchema.index({ ownerId: 1, content: 'text' }, { name: 'messages_content_text', default_language: 'none' });
