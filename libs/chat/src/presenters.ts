import { TokenUsageView } from '@app/auth';
import type { MessageEntity, MessageRole, MessageStatus, ThreadEntity, TokenUsage } from '@app/persistence';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** The contract's Thread resource. */
export class ThreadView {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty() model!: string;
  @ApiProperty() systemPrompt!: string;
  /** Reply settings used when a request names none; null: the provider's default. */
  @ApiProperty({ type: Number, nullable: true }) temperature!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxTokens!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The last message of the branch shown' })
  activeLeafId!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

/** The contract's Message resource. */
export class MessageView {
  @ApiProperty() id!: string;
  @ApiProperty() threadId!: string;
  @ApiProperty({ type: String, nullable: true }) parentId!: string | null;
  @ApiProperty({ enum: ['user', 'assistant'] }) role!: MessageRole;
  @ApiProperty() content!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The model's thinking text, when its provider streams it apart; null otherwise",
  })
  reasoning!: string | null;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['complete', 'streaming', 'stopped', 'error'] }) status!: MessageStatus;
  @ApiProperty({ type: TokenUsageView, nullable: true }) usage!: TokenUsage | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({
    description: 'On a reply as it is generated: how many older messages did not fit the context window (when any)',
  })
  contextOmitted?: number;
}

export function toThreadView(thread: ThreadEntity): ThreadView {
  return {
    id: thread.id,
    title: thread.title,
    model: thread.model,
    systemPrompt: thread.systemPrompt,
    temperature: thread.temperature,
    maxTokens: thread.maxTokens,
    activeLeafId: thread.activeLeafId,
    createdAt: thread.createdAt.toISOString(),
    updatedAt: thread.updatedAt.toISOString(),
  };
}

export function toMessageView(message: MessageEntity): MessageView {
  return {
    id: message.id,
    threadId: message.threadId,
    parentId: message.parentId,
    role: message.role,
    content: message.content,
    reasoning: message.reasoning,
    model: message.model,
    status: message.status,
    usage: message.usage,
    createdAt: message.createdAt.toISOString(),
  };
}
