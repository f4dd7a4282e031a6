import type { MessageEntity, ThreadEntity, TokenUsage } from '@app/persistence';
import { ApiProperty } from '@nestjs/swagger';
import { TokenUsageView, UserView } from '../user/user.view';

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

export class AccountExport {
  @ApiProperty({ format: 'date-time' }) exportedAt!: string;
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ type: [ExportedThread], description: 'Oldest first' }) threads!: ExportedThread[];
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
