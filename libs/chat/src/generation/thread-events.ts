import type { ErrorCode } from '@app/common';
import type { MessageView, ThreadView } from '../presenters';

/** Everything that happens in a thread, as relayed to SSE responses and the thread's Socket.IO room. */
export type ThreadEvent =
  | { type: 'message:created'; threadId: string; message: MessageView }
  /** `kind: 'reasoning'`: the model's thinking text, apart from the answer (absent: answer text). */
  | { type: 'message:delta'; threadId: string; messageId: string; seq: number; delta: string; kind?: 'reasoning' }
  | { type: 'message:done'; threadId: string; message: MessageView }
  | { type: 'message:error'; threadId: string; messageId: string; error: { code: ErrorCode; message: string } }
  | { type: 'thread:updated'; threadId: string; thread: ThreadView }
  | { type: 'thread:deleted'; threadId: string };

/** The reply being generated in a thread right now, as far as it has got. */
export interface InFlightReply {
  messageId: string;
  content: string;
  /** The thinking text so far, when the model streams it (in this process; not kept in Redis). */
  reasoning?: string;
  seq: number;
}
