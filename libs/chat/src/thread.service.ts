import type { AuthUser } from '@app/auth';
import { AppError, DEFAULT_PAGE_SIZE, isId, type Page } from '@app/common';
import { type ChatTurn, DEFAULT_TITLE, ModelCatalog } from '@app/ai';
import {
  MessageRepository,
  ownerScope,
  type MessageEntity,
  type ThreadEntity,
  ThreadRepository,
} from '@app/persistence';
import { Injectable } from '@nestjs/common';
import type { CreateThreadDto, ListThreadsQuery, UpdateThreadDto } from './dto/thread.dto';
import { ThreadEventBus } from './events/thread-event-bus';
import {
  type ListedThreadView,
  toListedThreadView,
  toMessageView,
  toThreadView,
  type MessageView,
  type ThreadView,
} from './presenters';

@Injectable()
export class ThreadService {
  constructor(
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
    private readonly catalog: ModelCatalog,
    private readonly bus: ThreadEventBus,
  ) {}

  /** The caller's thread, or `not_found` for a missing or foreign id alike. */
  async find(auth: AuthUser, threadId: string): Promise<ThreadEntity> {
    const thread = isId(threadId) ? await this.threads.findById(ownerScope(auth.userId), threadId) : null;
    if (!thread) {
      throw AppError.notFound('Thread');
    }
    return thread;
  }

  async create(auth: AuthUser, dto: CreateThreadDto): Promise<ThreadView> {
    const model = await this.catalog.resolve(dto.model);
    const thread = await this.threads.create(ownerScope(auth.userId), {
      title: dto.title?.trim() || DEFAULT_TITLE,
      model: model.id,
      systemPrompt: dto.systemPrompt ?? '',
    });
    if (dto.temperature !== undefined || dto.maxTokens !== undefined) {
      const configured = await this.threads.update(ownerScope(auth.userId), thread.id, {
        temperature: dto.temperature,
        maxTokens: dto.maxTokens,
      });
      return toThreadView(configured ?? thread);
    }
    return toThreadView(thread);
  }

  /**
   * A new thread holding a conversation given whole (the OpenAI-compatible API's `X-Confab-Thread: new`): leading
   * system turns become its system prompt, the rest one branch of alternating user and assistant messages that ends
   * with an answer (the next question is sent to it). The branch's last message is the active leaf.
   */
  async createFromConversation(auth: AuthUser, input: { model: string; turns: ChatTurn[] }): Promise<ThreadEntity> {
    const model = await this.catalog.resolve(input.model);
    const leading = input.turns.findIndex((t) => t.role !== 'system');
    const system = leading === -1 ? input.turns : input.turns.slice(0, leading);
    const history = leading === -1 ? [] : input.turns.slice(leading);
    const misplaced = history.findIndex((t, i) => t.role !== (i % 2 === 0 ? 'user' : 'assistant'));
    if (misplaced !== -1 || history.length % 2 !== 0) {
      throw AppError.validation([
        {
          field: `messages[${misplaced === -1 ? input.turns.length - 1 : system.length + misplaced}]`,
          message: 'To start a thread, the messages after the system ones must alternate user and assistant',
        },
      ]);
    }
    const scope = ownerScope(auth.userId);
    const thread = await this.threads.create(scope, {
      title: DEFAULT_TITLE,
      model: model.id,
      systemPrompt: system.map((t) => t.content).join('\n\n'),
    });
    let parentId: string | null = null;
    for (const turn of history) {
      const stored = await this.messages.create(scope, {
        threadId: thread.id,
        parentId,
        role: turn.role as 'user' | 'assistant',
        content: turn.content,
        model: model.id,
        status: 'complete',
      });
      parentId = stored.message.id;
    }
    return parentId ? ((await this.threads.update(scope, thread.id, { activeLeafId: parentId })) ?? thread) : thread;
  }

  async list(auth: AuthUser, query: ListThreadsQuery): Promise<Page<ListedThreadView>> {
    const page = await this.threads.list(ownerScope(auth.userId), {
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor ?? null,
      q: query.q,
    });
    return { items: page.items.map(toListedThreadView), nextCursor: page.nextCursor };
  }

  async get(auth: AuthUser, threadId: string): Promise<ThreadView> {
    return toThreadView(await this.find(auth, threadId));
  }

  async update(auth: AuthUser, threadId: string, dto: UpdateThreadDto): Promise<ThreadView> {
    const thread = await this.find(auth, threadId);
    const scope = ownerScope(auth.userId);
    const model = dto.model === undefined ? undefined : (await this.catalog.resolve(dto.model)).id;
    const activeLeafId =
      dto.activeLeafId === undefined ? undefined : await this.newestLeafUnder(auth, thread, dto.activeLeafId);
    const updated = await this.threads.update(scope, thread.id, {
      title: dto.title?.trim() || undefined,
      model,
      systemPrompt: dto.systemPrompt,
      temperature: dto.temperature,
      maxTokens: dto.maxTokens,
      activeLeafId,
    });
    if (!updated) {
      throw AppError.notFound('Thread');
    }
    const view = toThreadView(updated);
    this.bus.publish({ type: 'thread:updated', threadId: thread.id, ownerId: auth.userId, thread: view });
    return view;
  }

  async delete(auth: AuthUser, threadId: string): Promise<void> {
    const thread = await this.find(auth, threadId);
    await this.threads.delete(ownerScope(auth.userId), thread.id);
    this.bus.publish({ type: 'thread:deleted', threadId: thread.id });
  }

  /** Every message of the thread, every branch, oldest first. */
  async tree(auth: AuthUser, thread: ThreadEntity): Promise<MessageView[]> {
    return (await this.messages.listTree(ownerScope(auth.userId), thread.id)).map(toMessageView);
  }

  /**
   * The branch to show when the client names a message: that message if it is a leaf, otherwise the newest
   * leaf below it (following the most recent child), so naming a sibling switches to that sibling's branch.
   */
  private async newestLeafUnder(auth: AuthUser, thread: ThreadEntity, messageId: string): Promise<string> {
    const tree = await this.messages.listTree(ownerScope(auth.userId), thread.id);
    if (!tree.some((m) => m.id === messageId)) {
      throw AppError.notFound('Message');
    }
    const newestChild = new Map<string, MessageEntity>();
    for (const message of tree) {
      if (message.parentId) {
        newestChild.set(message.parentId, message); // tree is oldest first: the last one wins
      }
    }
    let leaf = messageId;
    for (let child = newestChild.get(leaf); child; child = newestChild.get(leaf)) {
      leaf = child.id;
    }
    return leaf;
  }
}
