import type { ErrorCode } from '@app/common';
import type { MessageView, ThreadView } from '../presenters';

/** Everything that happens in a thread, as relayed to SSE responses and the thread's Socket.IO room. */
export type ThreadEvent =
  | { type: 'message:created'; threadId: string; message: MessageView }
  | { type: 'message:delta'; threadId: string; messageId: string; seq: number; delta: string }
  | { type: 'message:done'; threadId: string; message: MessageView }
  | { type: 'message:error'; threadId: string; messageId: string; error: { code: ErrorCode; message: string } }
  | { type: 'thread:updated'; threadId: string; thread: ThreadView }
  | { type: 'thread:deleted'; threadId: string };

/** The reply being generated in a thread right now, as far as it has got. */
export interface InFlightReply {
  messageId: string;
  content: string;
  seq: number;
}
