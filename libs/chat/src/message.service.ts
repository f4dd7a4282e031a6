import type { AuthUser } from '@app/auth';
import { DEFAULT_PAGE_SIZE } from '@app/common';
import { MessageRepository, ownerScope } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import type { ListMessagesQuery } from './dto/thread.dto';
import { toMessageView, type MessageView } from './presenters';
import { ThreadService } from './thread.service';

@Injectable()
export class MessageService {
  constructor(
    private readonly threads: ThreadService,
    private readonly messages: MessageRepository,
  ) {}

  async list(
    auth: AuthUser,
    threadId: string,
    query: ListMessagesQuery,
  ): Promise<{ items: MessageView[]; nextBefore: string | null }> {
    const thread = await this.threads.find(auth, threadId);
    if (query.branch === 'all') {
      return { items: await this.threads.tree(auth, thread), nextBefore: null };
    }
    if (!thread.activeLeafId) {
      return { items: [], nextBefore: null };
    }
    const page = await this.messages.branch(ownerScope(auth.userId), thread.id, thread.activeLeafId, {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      before: query.before ?? null,
    });
    return { items: page.items.map(toMessageView), nextBefore: page.nextBefore };
  }
}
