import type { ErrorCode } from '@app/common';
import type { MessageView, ThreadView } from '../presenters';

/** Everything that happens in a thread, as relayed to SSE responses and the thread's Socket.IO room. */
export type ThreadEvent =
  | { type: 'message:created'; threadId: string; message: MessageView }
  /** `kind: 'reasoning'`: the model's thinking text, apart from the answer (absent: answer text). */
  | { type: 'message:delta'; threadId: string; messageId: string; seq: number; delta: string; kind?: 'reasoning' }
  | { type: 'message:done'; threadId: string; message: MessageView }
  | { type: 'message:error'; threadId: string; messageId: string; error: { code: ErrorCode; message: string } }
  /** `ownerId`: every socket of the owner is told, joined or not (an older instance's events may lack it). */
  | { type: 'thread:updated'; threadId: string; ownerId: string; thread: ThreadView }
  | { type: 'thread:deleted'; threadId: string };

/** The reply being generated in a thread right now, as far as it has got. */
export interface InFlightReply {
  messageId: string;
  content: string;
  /** The thinking text so far, when the model streams it (in this process; not kept in Redis). */
  reasoning?: string;
  seq: number;
}

/** The events of one reply's stream after it was created: what a follower of that reply relays. */
export type ReplyEvent = Extract<ThreadEvent, { type: 'message:delta' | 'message:done' | 'message:error' }>;

/** The events about one message (the others are about the thread). */
export type MessageEvent = Extract<ThreadEvent, { type: `message:${string}` }>;

/** Which message a message event is about (the reply, for deltas and ends); null for thread events. */
export function messageIdOf(event: MessageEvent): string;
export function messageIdOf(event: ThreadEvent): string | null;
export function messageIdOf(event: ThreadEvent): string | null {
  switch (event.type) {
    case 'message:created':
    case 'message:done':
      return event.message.id;
    case 'message:delta':
    case 'message:error':
      return event.messageId;
    case 'thread:updated':
    case 'thread:deleted':
      return null;
  }
}

/** True for the events of a reply's stream after its creation (deltas and its end). */
export function isReplyEvent(event: ThreadEvent): event is ReplyEvent {
  return event.type === 'message:delta' || endsReply(event);
}

/** True for the events that end a reply's stream (`message:done`, `message:error`). */
export function endsReply(
  event: ThreadEvent,
): event is Extract<ThreadEvent, { type: 'message:done' | 'message:error' }> {
  return event.type === 'message:done' || event.type === 'message:error';
}

/** A delta as both transports send it (sockets add its `threadId`): `kind` only for thinking text. */
export function deltaBody(event: Extract<ThreadEvent, { type: 'message:delta' }>) {
  return {
    messageId: event.messageId,
    seq: event.seq,
    delta: event.delta,
    ...(event.kind ? { kind: event.kind } : {}),
  };
}
