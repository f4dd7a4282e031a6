import { TokenUsageView } from '@app/auth';
import type { MessageEntity, ThreadEntity, TokenUsage } from '@app/persistence';
import { ApiProperty } from '@nestjs/swagger';
import type { MessageView, ThreadView } from '../presenters';

/**
 * A thread exported: every message of every branch, for the account export (GET /auth/me/export); the Markdown
 * transcript of the active branch, for GET /threads/:id/export?format=markdown.
 */

/** The active branch from the root to the leaf, from a whole tree. */
export function activeBranch(messages: MessageView[], leafId: string | null): MessageView[] {
  const byId = new Map(messages.map((m) => [m.id, m]));
  const branch: MessageView[] = [];
  for (let m = leafId ? byId.get(leafId) : undefined; m; m = m.parentId ? byId.get(m.parentId) : undefined) {
    branch.push(m);
  }
  return branch.reverse();
}

/** A readable Markdown transcript of the active branch (other branches are in the JSON export). */
export function threadToMarkdown(thread: ThreadView, messages: MessageView[]): string {
  const lines = [`# ${thread.title}`, '', `- Model: ${thread.model}`, `- Created: ${thread.createdAt}`];
  if (thread.systemPrompt) {
    lines.push('', '> System prompt:', ...thread.systemPrompt.split('\n').map((l) => `> ${l}`));
  }
  for (const message of activeBranch(messages, thread.activeLeafId)) {
    const who = message.role === 'user' ? 'You' : `Assistant (${message.model})`;
    const note = message.status === 'complete' ? '' : ` _[${message.status}]_`;
    lines.push('', `## ${who}${note}`, '', message.content);
  }
  return `${lines.join('\n')}\n`;
}

export class ExportedMessage {
  @ApiProperty() id!: string;
  @ApiProperty() threadId!: string;
  @ApiProperty({ type: String, nullable: true }) parentId!: string | null;
  @ApiProperty({ enum: ['user', 'assistant'] }) role!: MessageEntity['role'];
  @ApiProperty() content!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['complete', 'streaming', 'stopped', 'error'] }) status!: MessageEntity['status'];
  @ApiProperty({ type: TokenUsageView, nullable: true }) usage!: TokenUsage | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class ExportedThread {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty() model!: string;
  @ApiProperty() systemPrompt!: string;
  @ApiProperty({ type: String, nullable: true }) activeLeafId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ type: [ExportedMessage], description: 'Every message of every branch, oldest first' })
  messages!: ExportedMessage[];
}

export function toExportedThread(thread: ThreadEntity, messages: MessageEntity[]): ExportedThread {
  return {
    id: thread.id,
    title: thread.title,
    model: thread.model,
    systemPrompt: thread.systemPrompt,
    activeLeafId: thread.activeLeafId,
    createdAt: thread.createdAt.toISOString(),
    updatedAt: thread.updatedAt.toISOString(),
    messages: messages.map((m) => ({
      id: m.id,
      threadId: m.threadId,
      parentId: m.parentId,
      role: m.role,
      content: m.content,
      model: m.model,
      status: m.status,
      usage: m.usage ? { promptTokens: m.usage.promptTokens, completionTokens: m.usage.completionTokens } : null,
      createdAt: m.createdAt.toISOString(),
    })),
  };
}
