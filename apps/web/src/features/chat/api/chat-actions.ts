import type { QueryClient } from '@tanstack/react-query';
import { socketClient } from '../../../lib/socket';
import { queryKeys } from '../../../lib/query-keys';
import type { Message, Thread } from '../../../lib/types';
import type { MessageTree } from './chat-queries';
import { liveReplies } from '../stream/live-replies';
import { upsertMessage } from '../stream/thread-sync';

export interface GenerationOptions {
  model?: string;
  temperature?: number;
  maxTokens?: number;
}

/**
 * Shows the reply an ack announced: a placeholder until its `message:created` arrives, so the typing indicator
 * shows at once. Its events may have come before the ack; then they already said what it is.
 */
function expectReply(client: QueryClient, threadId: string, id: string, parentId: string, model: string): void {
  const known = client.getQueryData<MessageTree>(queryKeys.messages(threadId))?.items.find((m) => m.id === id);
  if (known) {
    if (known.status === 'streaming') {
      liveReplies.start(threadId, id);
    }
    return;
  }
  upsertMessage(client, placeholder(threadId, id, parentId, model), true);
  liveReplies.start(threadId, id);
}

/** The model a reply will come from when the request names none: the thread's. */
function threadModel(client: QueryClient, threadId: string): string {
  return client.getQueryData<Thread>(queryKeys.thread(threadId))?.model ?? '';
}

function placeholder(threadId: string, id: string, parentId: string, model: string): Message {
  return {
    id,
    threadId,
    parentId,
    role: 'assistant',
    content: '',
    model,
    status: 'streaming',
    usage: null,
    createdAt: new Date().toISOString(),
  };
}

export async function sendMessage(
  client: QueryClient,
  threadId: string,
  content: string,
  options: GenerationOptions & { parentId?: string | null; clientMessageId: string },
): Promise<void> {
  const ack = await socketClient.request<{ userMessage: Message; assistantMessageId: string }>('message:send', {
    threadId,
    content,
    ...options,
  });
  upsertMessage(client, ack.userMessage);
  expectReply(
    client,
    threadId,
    ack.assistantMessageId,
    ack.userMessage.id,
    options.model ?? threadModel(client, threadId),
  );
}

export async function regenerate(
  client: QueryClient,
  threadId: string,
  messageId: string,
  options: GenerationOptions,
): Promise<void> {
  const ack = await socketClient.request<{ assistantMessageId: string; parentId: string }>('message:regenerate', {
    threadId,
    messageId,
    ...options,
  });
  expectReply(client, threadId, ack.assistantMessageId, ack.parentId, options.model ?? threadModel(client, threadId));
}

export async function stopGeneration(threadId: string): Promise<void> {
  await socketClient.request('generation:stop', { threadId });
}
