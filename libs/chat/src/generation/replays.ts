import { AppError } from '@app/common';
import { MessageRepository, type OwnerScope, type ThreadEntity } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { toMessageView } from '../presenters';
import { RunRegistry } from './run-registry';
import type { Started } from './started';

const pause = () => new Promise((resolve) => setTimeout(resolve, 10));

/**
 * Retries of a send (same `clientMessageId`) answer what the first one stored: its user message and its reply,
 * with the reply's local handle when it is still being generated here.
 */
@Injectable()
export class Replays {
  constructor(
    private readonly messages: MessageRepository,
    private readonly registry: RunRegistry,
  ) {}

  /** The stored user message with this clientMessageId and the reply generated for it, if any. */
  async find(scope: OwnerScope, thread: ThreadEntity, clientMessageId: string): Promise<Started | null> {
    const userMessage = await this.messages.findByClientMessageId(scope, thread.id, clientMessageId);
    if (!userMessage) {
      return null;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const [assistant] = await this.messages.children(scope, thread.id, userMessage.id);
      if (assistant) {
        const run = this.registry.get(thread.id);
        const local = run?.messageId === assistant.id ? run : null;
        const created = local ? local.view(assistant) : toMessageView(assistant);
        return { userMessage, assistantMessage: assistant, created, local: local?.handle ?? null };
      }
      await pause();
    }
    throw new AppError('conflict', 'This message is still being stored; retry shortly');
  }

  /** `find`, given a little time: the same retry may be racing its original by a few milliseconds. */
  async await(scope: OwnerScope, thread: ThreadEntity, clientMessageId: string): Promise<Started | null> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const replay = await this.find(scope, thread, clientMessageId);
      if (replay) {
        return replay;
      }
      await pause();
    }
    return null;
  }
}
