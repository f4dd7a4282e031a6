import { AppError } from '@app/common';
import { MessageRepository, ownerScope } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { toMessageView, type MessageView } from '../presenters';
import type { Started } from './generation.service';
import { ThreadEventBus } from './thread-event-bus';
import type { ThreadEvent } from './thread-events';

export type ReplyEvent = Extract<ThreadEvent, { type: 'message:delta' | 'message:done' | 'message:error' }>;

/** Follows one reply on the thread's event channel: what SSE responses and waiting REST calls relay. */
@Injectable()
export class ReplyFollower {
  constructor(
    private readonly bus: ThreadEventBus,
    private readonly messages: MessageRepository,
  ) {}

  /**
   * Calls `onEvent` for each later delta and the final done/error of the reply, then stops. The subscription is
   * made synchronously, so nothing published after this call is missed. Returns the unsubscribe function.
   */
  follow(threadId: string, messageId: string, onEvent: (event: ReplyEvent) => void): () => void {
    const unsubscribe = this.bus.subscribe((event) => {
      if (event.threadId !== threadId) {
        return;
      }
      if (event.type === 'message:delta' && event.messageId === messageId) {
        onEvent(event);
      } else if (
        (event.type === 'message:done' && event.message.id === messageId) ||
        (event.type === 'message:error' && event.messageId === messageId)
      ) {
        unsubscribe();
        onEvent(event);
      }
    });
    return unsubscribe;
  }

  /** Waits for the reply's end and returns it as stored; throws the generation's error as an AppError. */
  async outcome(
    ownerId: string,
    started: Started,
  ): Promise<{ userMessage: MessageView; assistantMessage: MessageView }> {
    const userMessage = toMessageView(started.userMessage);
    let assistant: MessageView = toMessageView(started.assistantMessage);
    if (started.run) {
      const outcome = await started.run.done;
      if (outcome.error) {
        throw outcome.error;
      }
      assistant = started.run.view(outcome.message);
    } else if (started.assistantMessage.status === 'streaming') {
      const end = await new Promise<ReplyEvent>((resolve) => {
        const unsubscribe = this.follow(started.assistantMessage.threadId, started.assistantMessage.id, (event) => {
          if (event.type !== 'message:delta') {
            resolve(event);
          }
        });
        // It may have ended between the read and the subscription.
        void this.messages.findById(ownerScope(ownerId), started.assistantMessage.id).then((m) => {
          if (m && m.status !== 'streaming') {
            unsubscribe();
            resolve({ type: 'message:done', threadId: m.threadId, message: toMessageView(m) });
          }
        });
      });
      if (end.type === 'message:error') {
        throw new AppError(end.error.code, end.error.message);
      }
      assistant = end.type === 'message:done' ? end.message : assistant;
    }
    return { userMessage, assistantMessage: assistant };
  }
}
