import type { MessageEntity, MessageRole, MessageStatus, ThreadEntity, TokenUsage } from '@app/persistence';

/** The contract's Thread resource. */
export interface ThreadView {
  id: string;
  title: string;
  model: string;
  systemPrompt: string;
  /** Reply settings used when a request names none; null: the provider's default. */
  temperature: number | null;
  maxTokens: number | null;
  activeLeafId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The contract's Message resource. */
export interface MessageView {
  id: string;
  threadId: string;
  parentId: string | null;
  role: MessageRole;
  content: string;
  /** The model's thinking text, when its provider streams it apart; null otherwise. */
  reasoning: string | null;
  model: string;
  status: MessageStatus;
  usage: TokenUsage | null;
  createdAt: string;
  /** On a reply as it is generated: how many older messages did not fit the model's context window (when any). */
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
