import type { QueryClient } from '@tanstack/react-query';
import { queryKeys } from '../../../lib/query-keys';
import { socketClient } from '../../../lib/socket';
import type { Message, Thread } from '../../../lib/types';
import type { MessageTree } from '../api/chat-queries';
import { type LiveReply, liveReplies } from './live-replies';

interface Created {
  threadId: string;
  message: Message;
}
interface Delta {
  threadId: string;
  messageId: string;
  seq: number;
  delta: string;
  kind?: 'reasoning';
}
interface Failed {
  threadId: string;
  messageId: string;
  error: { code: string; message: string };
}
export interface JoinAck {
  ok: boolean;
  thread?: Thread;
  streaming?: LiveReply | null;
  error?: { code: string; message: string };
}

/** Puts a message into the cached tree (replacing the one with its id) and makes it the thread's leaf. */
export function upsertMessage(client: QueryClient, message: Message, makeActive = false): void {
  client.setQueryData<MessageTree>(queryKeys.messages(message.threadId), (tree) => {
    const items = tree?.items ?? [];
    const i = items.findIndex((m) => m.id === message.id);
    if (i === -1) {
      return { items: [...items, message] };
    }
    const next = items.slice();
    next[i] = { ...items[i], ...message };
    return { items: next };
  });
  if (makeActive) {
    client.setQueryData<Thread>(queryKeys.thread(message.threadId), (t) =>
      t ? { ...t, activeLeafId: message.id } : t,
    );
  }
}

/** The server's title for a thread until one is generated, and how long generating one may take. */
const PLACEHOLDER_TITLE = 'New chat';
const TITLE_WINDOW_MS = 11_000;

let installed = false;

/** Feeds socket events into the live-reply store and the query cache; installed once for the app's lifetime. */
export function installThreadSync(client: QueryClient): void {
  if (installed) {
    return;
  }
  installed = true;
  socketClient.on<Created>('message:created', ({ message }) => {
    upsertMessage(client, message, true);
    if (message.role === 'assistant' && message.status === 'streaming') {
      liveReplies.start(message.threadId, message.id);
    }
  });
  socketClient.on<Delta>('message:delta', ({ threadId, messageId, seq, delta, kind }) => {
    if (!liveReplies.delta(threadId, messageId, seq, delta, kind)) {
      socketClient.rejoin(threadId); // a gap: take a fresh snapshot instead of showing a hole
    }
  });
  socketClient.on<Created>('message:done', ({ message }) => {
    upsertMessage(client, message);
    liveReplies.end(message.threadId, message.id);
    // The title may have been generated before this tab joined the room: read it again with the new order.
    const refresh = () => {
      void client.invalidateQueries({ queryKey: queryKeys.thread(message.threadId) });
      void client.invalidateQueries({ queryKey: queryKeys.threadLists });
    };
    refresh();
    // A first answer is followed by the generated title (one model call, at most 10 s). It comes as
    // thread:updated to every socket of the owner, but a socket reconnecting at that moment would miss it and
    // keep showing the placeholder, so read it again once the title call must have ended.
    const thread = client.getQueryData<Thread>(queryKeys.thread(message.threadId));
    if (!thread || thread.title === PLACEHOLDER_TITLE) {
      setTimeout(refresh, 3_000);
      setTimeout(refresh, TITLE_WINDOW_MS);
    }
  });
  socketClient.on<Failed>('message:error', ({ threadId, messageId, error }) => {
    liveReplies.end(threadId, messageId, { messageId, ...error });
    void client.invalidateQueries({ queryKey: queryKeys.messages(threadId) });
  });
  socketClient.on<{ thread: Thread }>('thread:updated', ({ thread }) => {
    client.setQueryData(queryKeys.thread(thread.id), thread);
    void client.invalidateQueries({ queryKey: queryKeys.threadLists });
  });
  socketClient.on<{ threadId: string }>('thread:deleted', ({ threadId }) => {
    client.setQueryData(queryKeys.thread(threadId), undefined);
    void client.invalidateQueries({ queryKey: queryKeys.thread(threadId) });
    void client.invalidateQueries({ queryKey: queryKeys.threadLists });
  });
}

/** The join ack: the thread as it is now and the reply being generated, so a reload continues without a gap. */
export function applyJoin(client: QueryClient, threadId: string, ack: unknown): void {
  const join = ack as JoinAck;
  if (!join.ok) {
    return;
  }
  if (join.thread) {
    client.setQueryData(queryKeys.thread(threadId), join.thread);
  }
  liveReplies.snapshot(threadId, join.streaming ?? null);
  const tree = client.getQueryData<MessageTree>(queryKeys.messages(threadId));
  const known = (id: string) => tree?.items.some((m) => m.id === id) ?? false;
  if (join.streaming && !known(join.streaming.messageId)) {
    void client.invalidateQueries({ queryKey: queryKeys.messages(threadId) });
  }
  if (!join.streaming && tree?.items.some((m) => m.status === 'streaming')) {
    // It ended while this tab was away: the stored text is final now.
    void client.invalidateQueries({ queryKey: queryKeys.messages(threadId) });
  }
}
