import type { AuthUser } from '@app/auth';
import { type ChatTurn, type ModelInfo, ModelCatalog } from '@app/ai';
import { AppError } from '@app/common';
import {
  MessageRepository,
  type MessageEntity,
  type OwnerScope,
  ownerScope,
  type ThreadEntity,
  ThreadRepository,
} from '@app/persistence';
import { Injectable } from '@nestjs/common';
import type { GenerationOptionsDto, RegenerateDto, SendMessageDto } from '../dto/send-message.dto';
import { ThreadEventBus } from '../events/thread-event-bus';
import { toMessageView } from '../presenters';
import { ThreadService } from '../thread.service';
import { GenerationSlots } from './generation-slots';
import type { OpenedStream } from './opened-stream';
import { PromptBuilder } from './prompt-builder';
import { type Claim, ReplyLauncher } from './reply-launcher';
import { ReplyQuota } from './reply-quota';
import { Replays } from './replays';
import { RunRegistry } from './run-registry';
import type { Started } from './started';
import { ThreadLease } from './thread-lease';

export type { ReplyEnd, Started } from './started';

/** A checked request for a reply: the caller's thread, what the prompt ends with, and the reply's options. */
interface ReplyRequest {
  scope: OwnerScope;
  thread: ThreadEntity;
  /** The last stored message the prompt includes (null: the new message starts a branch at the root). */
  leafId: string | null;
  /** The new user message, not stored yet (null: a regeneration answers a stored one). */
  newTurn: ChatTurn | null;
  options: GenerationOptionsDto;
  clientMessageId?: string;
}

/**
 * The one generation pipeline behind REST, SSE, Socket.IO and the OpenAI-compatible API. `send` and `regenerate`
 * check what is particular to them, then share one preparation: the quota, the model (resolved once), the thread's
 * lease, a slot among the user's generations, the prompt and its quota reservation; `ReplyLauncher` starts the reply.
 */
@Injectable()
export class GenerationService {
  constructor(
    private readonly threadService: ThreadService,
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
    private readonly catalog: ModelCatalog,
    private readonly quota: ReplyQuota,
    private readonly slots: GenerationSlots,
    private readonly prompts: PromptBuilder,
    private readonly launcher: ReplyLauncher,
    private readonly registry: RunRegistry,
    private readonly replays: Replays,
    private readonly bus: ThreadEventBus,
  ) {}

  async send(auth: AuthUser, threadId: string, dto: SendMessageDto): Promise<Started> {
    return this.registry.admit(async () => {
      const { scope, thread } = await this.owned(auth, threadId);
      const replay = dto.clientMessageId ? await this.replays.find(scope, thread, dto.clientMessageId) : null;
      if (replay) {
        return replay;
      }
      const parentId = dto.parentId === undefined ? thread.activeLeafId : dto.parentId;
      if (parentId) {
        const parent = await this.messages.findById(scope, parentId);
        if (!parent || parent.threadId !== thread.id) {
          throw AppError.notFound('Message');
        }
        if (parent.role !== 'assistant') {
          throw AppError.validation([
            { field: 'parentId', message: 'parentId must be an assistant message (or null)' },
          ]);
        }
      }
      const request: ReplyRequest = {
        scope,
        thread,
        leafId: parentId,
        newTurn: { role: 'user', content: dto.content },
        options: dto,
        clientMessageId: dto.clientMessageId,
      };
      return this.prepare(request, async (model) => {
        const { message, created } = await this.messages.create(scope, {
          threadId: thread.id,
          parentId,
          role: 'user',
          content: dto.content,
          model: model.id,
          status: 'complete',
          clientMessageId: dto.clientMessageId ?? null,
        });
        if (created) {
          this.bus.publish({ type: 'message:created', threadId: thread.id, message: toMessageView(message) });
        }
        return created ? message : null;
      });
    });
  }

  async regenerate(auth: AuthUser, threadId: string, dto: RegenerateDto): Promise<Started> {
    return this.registry.admit(async () => {
      const { scope, thread } = await this.owned(auth, threadId);
      const answerId = dto.messageId ?? thread.activeLeafId;
      const answer = answerId ? await this.messages.findById(scope, answerId) : null;
      if (!answer || answer.threadId !== thread.id) {
        throw AppError.notFound('Message');
      }
      if (answer.role !== 'assistant' || !answer.parentId) {
        throw AppError.validation([{ field: 'messageId', message: 'messageId must be an assistant reply' }]);
      }
      const question = await this.messages.findById(scope, answer.parentId);
      if (!question) {
        throw AppError.notFound('Message');
      }
      return this.prepare({ scope, thread, leafId: question.id, newTurn: null, options: dto }, async () => question);
    });
  }

  /** Stops the thread's running generation wherever it runs; `not_found` when none runs (for REST and sockets). */
  async stop(auth: AuthUser, threadId: string): Promise<void> {
    const { thread } = await this.owned(auth, threadId);
    if (!this.registry.stop(thread.id) && !(await this.bus.requestRemoteStop(thread.id))) {
      throw new AppError('not_found', 'No reply is being generated in this thread');
    }
  }

  /** The drain after SIGTERM: see `RunRegistry.drain`. */
  drain(graceMs: number): Promise<void> {
    return this.registry.drain(graceMs);
  }

  /** The caller's thread (`not_found` for a foreign one) with the owner scope every later step uses. */
  private async owned(auth: AuthUser, threadId: string): Promise<{ scope: OwnerScope; thread: ThreadEntity }> {
    return { scope: ownerScope(auth.userId), thread: await this.threadService.find(auth, threadId) };
  }

  /**
   * What send and regenerate share: the quota, the model, the lease, the claim; then `question` stores (or finds)
   * the message the reply answers (null: a retry stored it meanwhile, and its replay answers) and the reply starts.
   */
  private async prepare(
    request: ReplyRequest,
    question: (model: ModelInfo) => Promise<MessageEntity | null>,
  ): Promise<Started> {
    const { scope, thread, options, clientMessageId } = request;
    await this.quota.check(scope.ownerId);
    const model = await this.catalog.resolve(options.model ?? thread.model);
    const lease = await this.lease(scope, thread, clientMessageId);
    if (!(lease instanceof ThreadLease)) {
      return lease;
    }
    let claim: Claim | null = null;
    let opened: OpenedStream | null = null;
    try {
      claim = await this.claim(request, lease, model);
      // The upstream request goes out first; the model works while the question and the placeholder are stored.
      opened = await this.launcher.open(thread, model, options, claim);
      const stored = await question(model);
      if (!stored) {
        opened.cancel();
        await this.unclaim(lease, claim);
        return (await this.replays.find(scope, thread, clientMessageId!))!;
      }
      return await this.launcher.launch(scope, thread, stored, model, options, claim, opened);
    } catch (err) {
      opened?.cancel();
      await this.unclaim(lease, claim);
      throw err;
    }
  }

  /** A slot among the user's concurrent generations, the prompt, and the quota reservation of prompt and reply. */
  private async claim(request: ReplyRequest, lease: ThreadLease, model: ModelInfo): Promise<Claim> {
    const { scope, thread, leafId, newTurn, options } = request;
    const slot = await this.slots.acquire(scope.ownerId);
    try {
      const maxTokens = options.maxTokens ?? thread.maxTokens ?? undefined;
      const prompt = await this.prompts.build(scope, thread, leafId, newTurn, model, maxTokens);
      const reservation = await this.quota.reserve(scope.ownerId, prompt.context.promptTokens, prompt.replyBudget);
      return { lease, slot, reservation, prompt };
    } catch (err) {
      await slot.release();
      throw err;
    }
  }

  /** Gives back what a generation that did not start held. */
  private async unclaim(lease: ThreadLease, claim: Claim | null): Promise<void> {
    await Promise.all([lease.release(), claim?.slot.release(), claim?.reservation.settle(null)]);
  }

  /** The thread's lease; when it is taken and the request is a retry of a stored one, its replay instead. */
  private async lease(
    scope: OwnerScope,
    thread: ThreadEntity,
    clientMessageId?: string,
  ): Promise<ThreadLease | Started> {
    const lease = await ThreadLease.acquire(this.threads, scope, thread.id);
    const replay = lease || !clientMessageId ? null : await this.replays.await(scope, thread, clientMessageId);
    if (lease ?? replay) {
      return lease ?? replay!;
    }
    throw new AppError('conflict', 'A reply is already being generated in this thread');
  }
}
