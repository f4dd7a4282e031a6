import { TokenUsageView } from '@app/auth';
import type {
  ListedThread,
  MessageEntity,
  MessageRole,
  MessageStatus,
  Snippet,
  ThreadEntity,
  ThreadMatch,
  TokenUsage,
} from '@app/persistence';
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

/** An excerpt of a message: plain text (never markup), with the ranges of the searched words in it. */
export class SnippetView implements Snippet {
  @ApiProperty({
    description: 'About 160 characters around the first match, whitespace collapsed, "…" where cut',
    example: '…how quantum tunnelling lets a particle pass a barrier…',
  })
  text!: string;
  @ApiProperty({
    type: 'array',
    items: { type: 'array', items: { type: 'integer', minimum: 0 }, minItems: 2, maxItems: 2 },
    description:
      'The matched words as [start, end) UTF-16 indexes into text, in order; for a prefix match the part of the ' +
      'word that matched',
    example: [[16, 22]],
  })
  highlights!: [number, number][];
}

/** Why a thread is in a search's results. */
export class ThreadMatchView implements ThreadMatch {
  @ApiProperty({ description: "The thread's newest matching message (among the search's bounded candidates)" })
  messageId!: string;
  @ApiProperty({ type: SnippetView }) snippet!: SnippetView;
}

/** A thread in a listing; a search adds why it matched. */
export class ListedThreadView extends ThreadView {
  @ApiPropertyOptional({
    type: ThreadMatchView,
    nullable: true,
    description: 'Only with q: the newest matching message and a snippet of it; null when only the title matched',
  })
  match?: ThreadMatchView | null;
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

export function toListedThreadView(thread: ListedThread): ListedThreadView {
  const view: ListedThreadView = toThreadView(thread);
  if (thread.match !== undefined) {
    view.match = thread.match;
  }
  return view;
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
