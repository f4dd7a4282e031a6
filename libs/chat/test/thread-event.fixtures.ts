import type { ThreadEvent } from '../src/events/thread-events';
import type { MessageView } from '../src/presenters';

/** Thread events of thread `t1` for the bus and feed tests: a reply (by default streaming) and its events. */
export function reply(id: string, overrides: Partial<MessageView> = {}): MessageView {
  return {
    id,
    threadId: 't1',
    parentId: 'u1',
    role: 'assistant',
    content: '',
    reasoning: null,
    model: 'demo',
    status: 'streaming',
    usage: null,
    createdAt: new Date(0).toISOString(),
    ...overrides,
  };
}

export const created = (id: string, overrides: Partial<MessageView> = {}): ThreadEvent => ({
  type: 'message:created',
  threadId: overrides.threadId ?? 't1',
  message: reply(id, overrides),
});

export const delta = (id: string, seq: number, text: string, kind?: 'reasoning'): ThreadEvent => ({
  type: 'message:delta',
  threadId: 't1',
  messageId: id,
  seq,
  delta: text,
  ...(kind ? { kind } : {}),
});

export const done = (id: string, content: string): ThreadEvent => ({
  type: 'message:done',
  threadId: 't1',
  message: reply(id, { status: 'complete', content }),
});
