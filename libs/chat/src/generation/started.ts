import type { AppError } from '@app/common';
import type { MessageEntity } from '@app/persistence';
import type { MessageView } from '../presenters';

/** How a reply generated in this process ends, as relayed (`message:done`'s message, or the error). */
export interface ReplyEnd {
  message: MessageView;
  error: AppError | null;
}

/** What a send or a regeneration answers the transports: the messages, and a narrow handle on a local reply. */
export interface Started {
  userMessage: MessageEntity;
  assistantMessage: MessageEntity;
  /** The reply as its `message:created` event announced it (SSE's `created` is built from it). */
  created: MessageView;
  /** The reply's end when it is generated in this process; null for a reply generated elsewhere or already over. */
  local: { readonly done: Promise<ReplyEnd> } | null;
}
