import { AccountEvents, type AuthUser } from '@app/auth';
import { APP_CONFIG, AppError, type AppConfig, ConfabMetrics, DrainState } from '@app/common';
import {
  fallbackTitle,
  fitContext,
  generateTitle,
  ModelCatalog,
  ModelProvider,
  TokenCounter,
  type ChatTurn,
  type FittedContext,
} from '@app/ai';
import {
  MessageRepository,
  ownerScope,
  ThreadRepository,
  type MessageEntity,
  type OwnerScope,
  type ThreadEntity,
  type TokenUsage,
} from '@app/persistence';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { GenerationOptionsDto, RegenerateDto, SendMessageDto } from '../dto/send-message.dto';
import { toMessageView, toThreadView } from '../presenters';
import { DEFAULT_TITLE, ThreadService } from '../thread.service';
import { GenerationRun, type RunOutcome } from './generation-run';
import { type GenerationSlot, GenerationSlots } from './generation-slots';
import { LEASE_MS, LEASE_RENEW_MS } from './lease';
import { type QuotaReservation, ReplyQuota } from './reply-quota';
import { StatelessCompletion } from './stateless-completion';
import { ThreadEventBus } from '../events/thread-event-bus';

/** History is read this many messages at a time, newest first, until the context window is full. */
const HISTORY_PAGE = 100;
/** Reply budget when the client sets none. */
const DEFAULT_REPLY_BUDGET = 1024;
/** A title is a few words: its reply budget, and a generous count of its instruction and framing. */
const TITLE_REPLY_BUDGET = 24;
const TITLE_PROMPT_OVERHEAD = 80;

/** What a generation holds from its start until it is done, given back whatever happens. */
interface Claim {
  /** The thread's lease. */
  holder: string;
  slot: GenerationSlot;
  reservation: QuotaReservation;
  context: FittedContext;
}

/** A completion on messages given whole (the OpenAI-compatible API without a thread). */
export interface CompletionInput {
  model: string;
  messages: ChatTurn[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  /** The caller's: aborting it (the client went away) closes the upstream request. */
  signal: AbortSignal;
}

export interface Started {
  userMessage: MessageEntity;
  assistantMessage: MessageEntity;
  /** The running generation when it runs in this process (always for a new one); null for a finished replay. */
  run: GenerationRun | null;
}

/**
 * The one generation pipeline behind REST, SSE and Socket.IO: ownership and quota checks, the idempotent user
 * message, the streaming assistant placeholder, context fitting, the provider call and its outcome.
 */
@Injectable()
export class GenerationService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(GenerationService.name);
  private readonly instanceId = randomUUID();
  private readonly runs = new Map<string, GenerationRun>();
  /** Stateless completions running here, by owner: a disabled or deleted user's are stopped too. */
  private readonly completions = new Set<{ ownerId: string; abort: AbortController }>();
  /** Each run with what follows it (usage, the lease), until it is all done. */
  private readonly executions = new Set<Promise<void>>();
  /** Sends and regenerations admitted before a drain began and not yet running (see `drain`). */
  private admitted = 0;
  private unsubscribeStop?: () => void;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly threadService: ThreadService,
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
    private readonly quota: ReplyQuota,
    private readonly slots: GenerationSlots,
    private readonly provider: ModelProvider,
    private readonly catalog: ModelCatalog,
    private readonly tokens: TokenCounter,
    private readonly bus: ThreadEventBus,
    private readonly accountEvents: AccountEvents,
    private readonly drainState: DrainState,
    private readonly metrics: ConfabMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const offStop = this.bus.onRemoteStop((threadId) => this.runs.get(threadId)?.stop());
    // A thread deleted (by its owner, or with its owner's account) stops its reply wherever it runs.
    const offDeleted = this.bus.subscribe((event) => {
      if (event.type === 'thread:deleted') {
        this.runs.get(event.threadId)?.stop();
      }
    });
    // A user deleted or disabled (every session revoked) stops spending tokens at once, on every instance.
    const offAccount = this.accountEvents.on((event) => {
      if (event.type === 'revoked' && event.sessionIds === 'all') {
        for (const run of this.runs.values()) {
          if (run.ownerId === event.userId) {
            run.stop();
          }
        }
        for (const completion of this.completions) {
          if (completion.ownerId === event.userId) {
            completion.abort.abort();
          }
        }
      }
    });
    this.unsubscribeStop = () => {
      offStop();
      offDeleted();
      offAccount();
    };
    // Replies left `streaming` by a process that died are repaired by the ReplySweeper.
  }

  /**
   * Stops the replies running here and waits until they are stored and their end published. Before, not on,
   * application shutdown: the database and Redis close in `onApplicationShutdown`, in an order Nest does not promise.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribeStop?.();
    const runs = [...this.runs.values()];
    for (const run of runs) {
      run.stop();
    }
    for (const completion of this.completions) {
      completion.abort.abort();
    }
    await Promise.all(runs.map((run) => run.done));
    await Promise.all([...this.executions]);
  }

  /**
   * The drain after SIGTERM (new sends are already refused by `DrainState`): lets the replies running here finish
   * for up to `graceMs`, then stops the rest, which stores each with its partial text, and waits until all is stored.
   */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.runs.size > 0 || this.executions.size > 0 || this.admitted > 0 || this.completions.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        break;
      }
      // A send admitted just before the drain may not have created its run yet, and a stateless completion (/v1)
      // has no promise to wait on: look again shortly.
      const poll = this.admitted > 0 || this.completions.size > 0;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...[...this.runs.values()].map((run) => run.done), ...this.executions]),
        new Promise((resolve) => (timer = setTimeout(resolve, poll ? Math.min(left, 50) : left))),
      ]);
      clearTimeout(timer);
    }
    const late = [...this.runs.values()];
    if (late.length + this.completions.size > 0) {
      this.logger.warn(
        `shutdown grace over: stopping ${late.length} replies (stored as they are) and ${this.completions.size} completions`,
      );
    }
    late.forEach((run) => run.stop());
    this.completions.forEach((completion) => completion.abort.abort());
    await Promise.all(late.map((run) => run.done));
    await Promise.all([...this.executions]);
  }

  async send(auth: AuthUser, threadId: string, dto: SendMessageDto): Promise<Started> {
    return this.admit(() => this.startSend(auth, threadId, dto));
  }

  async regenerate(auth: AuthUser, threadId: string, dto: RegenerateDto): Promise<Started> {
    return this.admit(() => this.startRegenerate(auth, threadId, dto));
  }

  /** Refuses new generations while draining (`unavailable`: the client retries on another instance). */
  private async admit(start: () => Promise<Started>): Promise<Started> {
    this.drainState.assertAccepting();
    this.admitted += 1;
    try {
      return await start();
    } finally {
      this.admitted -= 1;
    }
  }

  private async startSend(auth: AuthUser, threadId: string, dto: SendMessageDto): Promise<Started> {
    const thread = await this.threadService.find(auth, threadId);
    const scope = ownerScope(auth.userId);
    if (dto.clientMessageId) {
      const replay = await this.replay(scope, thread, dto.clientMessageId);
      if (replay) {
        return replay;
      }
    }
    const parentId = dto.parentId === undefined ? thread.activeLeafId : dto.parentId;
    if (parentId) {
      const parent = await this.messages.findById(scope, parentId);
      if (!parent || parent.threadId !== thread.id) {
        throw AppError.notFound('Message');
      }
      if (parent.role !== 'assistant') {
        throw AppError.validation([{ field: 'parentId', message: 'parentId must be an assistant message (or null)' }]);
      }
    }
    await this.quota.check(auth.userId);
    const model = await this.catalog.resolve(dto.model ?? thread.model);
    const holder = await this.acquire(scope, thread, dto.clientMessageId);
    if (typeof holder !== 'string') {
      return holder;
    }
    let claim: Claim | null = null;
    try {
      const turn: ChatTurn = { role: 'user', content: dto.content };
      claim = await this.claim(
        auth,
        thread,
        holder,
        parentId,
        turn,
        model.id,
        dto.maxTokens ?? thread.maxTokens ?? undefined,
      );
      const { message: userMessage, created } = await this.messages.create(scope, {
        threadId: thread.id,
        parentId,
        role: 'user',
        content: dto.content,
        model: model.id,
        status: 'complete',
        clientMessageId: dto.clientMessageId ?? null,
      });
      if (!created) {
        await this.unclaim(scope, thread.id, holder, claim);
        return (await this.replay(scope, thread, dto.clientMessageId!))!;
      }
      this.bus.publish({ type: 'message:created', threadId: thread.id, message: toMessageView(userMessage) });
      return await this.start(auth, thread, userMessage, model.id, dto, claim);
    } catch (err) {
      await this.unclaim(scope, thread.id, holder, claim);
      throw err;
    }
  }

  private async startRegenerate(auth: AuthUser, threadId: string, dto: RegenerateDto): Promise<Started> {
    const thread = await this.threadService.find(auth, threadId);
    const scope = ownerScope(auth.userId);
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
    await this.quota.check(auth.userId);
    const model = await this.catalog.resolve(dto.model ?? thread.model);
    const holder = await this.acquire(scope, thread);
    if (typeof holder !== 'string') {
      throw new AppError('conflict', 'A reply is already being generated in this thread');
    }
    let claim: Claim | null = null;
    try {
      claim = await this.claim(
        auth,
        thread,
        holder,
        question.id,
        null,
        model.id,
        dto.maxTokens ?? thread.maxTokens ?? undefined,
      );
      return await this.start(auth, thread, question, model.id, dto, claim);
    } catch (err) {
      await this.unclaim(scope, thread.id, holder, claim);
      throw err;
    }
  }

  /**
   * A completion that stores nothing but its usage (the OpenAI-compatible API without `X-Confab-Thread`): the same
   * quota and model checks as `send`, the given messages as the whole context (refused when they do not fit the
   * model's window, never cut silently), the same provider port. Throws before anything streams when refused.
   */
  async complete(auth: AuthUser, input: CompletionInput): Promise<StatelessCompletion> {
    this.drainState.assertAccepting();
    await this.quota.check(auth.userId);
    const model = await this.catalog.resolve(input.model);
    const promptTokens = this.tokens.countTurns(input.messages);
    // At least one token of reply must fit after the prompt.
    if (promptTokens + (input.maxTokens ?? 1) > model.contextWindow) {
      throw AppError.validation([
        {
          field: 'messages',
          message: `The messages take ${promptTokens} tokens${input.maxTokens ? ` and max_tokens ${input.maxTokens}` : ''}: more than the model's context window of ${model.contextWindow} leaves for a reply`,
        },
      ]);
    }
    // A slot among the user's concurrent generations (shared with thread replies), then the quota reservation of
    // the prompt and the reply budget: the caller's max_tokens, else the default one, always sent upstream and
    // capped by what is left of the quota.
    const replyBudget = input.maxTokens ?? Math.min(DEFAULT_REPLY_BUDGET, model.contextWindow - promptTokens);
    const slot = await this.slots.acquire(auth.userId);
    let reservation: QuotaReservation;
    try {
      reservation = await this.quota.reserve(auth.userId, promptTokens, replyBudget);
    } catch (err) {
      await slot.release();
      throw err;
    }
    const renew = setInterval(() => void slot.renew(), LEASE_RENEW_MS);
    const tracked = { ownerId: auth.userId, abort: new AbortController() };
    const request = {
      model: model.id,
      messages: input.messages,
      temperature: input.temperature,
      topP: input.topP,
      maxTokens: reservation.maxTokens,
      stop: input.stop,
      signal: AbortSignal.any([input.signal, tracked.abort.signal]),
    };
    this.completions.add(tracked);
    return new StatelessCompletion(
      request,
      this.provider,
      promptTokens,
      (text) => this.tokens.countText(text),
      async (usage) => {
        clearInterval(renew);
        this.completions.delete(tracked);
        await Promise.all([reservation.settle(usage), slot.release()]);
      },
    );
  }

  /** Stops the thread's running generation wherever it runs; false when none runs. */
  async stop(auth: AuthUser, threadId: string): Promise<boolean> {
    const thread = await this.threadService.find(auth, threadId);
    const local = this.runs.get(thread.id);
    if (local) {
      local.stop();
      return true;
    }
    return this.bus.requestRemoteStop(thread.id);
  }

  private async start(
    auth: AuthUser,
    thread: ThreadEntity,
    userMessage: MessageEntity,
    model: string,
    options: GenerationOptionsDto,
    claim: Claim,
  ): Promise<Started> {
    const scope = ownerScope(auth.userId);
    const { context } = claim;
    // The request's settings win; the thread's are the defaults (the reply budget was settled in the claim).
    const temperature = options.temperature ?? thread.temperature ?? undefined;
    const { message: assistant } = await this.messages.create(scope, {
      threadId: thread.id,
      parentId: userMessage.id,
      role: 'assistant',
      content: '',
      model,
      status: 'streaming',
    });
    await this.threads.update(scope, thread.id, { activeLeafId: assistant.id });
    const run = new GenerationRun(
      {
        scope,
        threadId: thread.id,
        assistant,
        model,
        turns: context.messages,
        contextOmitted: context.omitted,
        temperature,
        maxTokens: claim.reservation.maxTokens,
        promptTokens: context.promptTokens,
        maxChars: this.config.maxReplyChars,
        coalesceMs: this.config.deltaCoalesceMs,
        countText: (text) => this.tokens.countText(text),
        onFirstToken: (ms) => this.metrics.timeToFirstToken.observe({ model }, ms / 1000),
      },
      this.provider,
      this.messages,
      this.bus,
    );
    this.runs.set(thread.id, run);
    this.metrics.activeGenerations.inc();
    this.bus.publish({ type: 'message:created', threadId: thread.id, message: run.view(assistant) });
    // Started on the next turn of the event loop, so the caller can subscribe to the run first.
    setImmediate(() => {
      const execution = this.execute(auth, thread, userMessage, run, claim);
      this.executions.add(execution);
      void execution.finally(() => this.executions.delete(execution));
    });
    return { userMessage, assistantMessage: assistant, run };
  }

  private async execute(
    auth: AuthUser,
    thread: ThreadEntity,
    userMessage: MessageEntity,
    run: GenerationRun,
    claim: Claim,
  ): Promise<void> {
    const scope = ownerScope(auth.userId);
    const { holder } = claim;
    // The lease frees the thread after a crash; touching the reply tells the ReplySweeper it is still alive.
    const renew = setInterval(() => {
      void Promise.all([
        this.threads.renewGenerationLease(scope, thread.id, holder, new Date(Date.now() + LEASE_MS)),
        this.messages.update(scope, run.messageId, {}),
        claim.slot.renew(),
      ]).catch((err: unknown) => this.logger.warn({ err }, 'lease renewal failed'));
    }, LEASE_RENEW_MS);
    try {
      const outcome = await run.run();
      this.record(outcome);
      await claim.reservation.settle(outcome.persisted ? outcome.message.usage : null);
      if (outcome.message.status === 'complete' && userMessage.parentId === null && thread.title === DEFAULT_TITLE) {
        void this.title(auth, thread, userMessage.content, outcome.message.content, outcome.message.model);
      }
    } catch (err) {
      this.logger.error({ err }, 'generation pipeline failed');
    } finally {
      clearInterval(renew);
      this.runs.delete(thread.id);
      this.metrics.activeGenerations.dec();
      await Promise.all([
        this.threads.releaseGenerationLease(scope, thread.id, holder).catch(() => undefined),
        claim.slot.release(),
      ]);
    }
  }

  private record({ message, error }: RunOutcome): void {
    this.metrics.generations.inc({ outcome: message.status });
    if (message.usage) {
      this.metrics.tokensStreamed.inc({ model: message.model }, message.usage.completionTokens);
    }
    // `internal` is our own failure to store the reply; every other error code comes from the provider call.
    if (error && error.code !== 'internal') {
      this.metrics.upstreamErrors.inc({ code: error.code });
    }
  }

  /**
   * Takes what a generation needs once its thread lease is held: a slot among the user's concurrent generations, the
   * fitted context, and the quota reservation for its prompt and reply budget (which caps max_tokens).
   */
  private async claim(
    auth: AuthUser,
    thread: ThreadEntity,
    holder: string,
    leafId: string | null,
    newTurn: ChatTurn | null,
    model: string,
    maxTokens?: number,
  ): Promise<Claim> {
    const slot = await this.slots.acquire(auth.userId);
    try {
      const { context, replyBudget } = await this.buildContext(
        ownerScope(auth.userId),
        thread,
        leafId,
        newTurn,
        model,
        maxTokens,
      );
      const reservation = await this.quota.reserve(auth.userId, context.promptTokens, replyBudget);
      return { holder, slot, reservation, context };
    } catch (err) {
      await slot.release();
      throw err;
    }
  }

  /** Gives back what a generation that did not start held. */
  private async unclaim(scope: OwnerScope, threadId: string, holder: string, claim: Claim | null): Promise<void> {
    await Promise.all([
      this.threads.releaseGenerationLease(scope, threadId, holder),
      claim?.slot.release(),
      claim?.reservation.settle(null),
    ]);
  }

  /** Names a new thread after its first exchange; the model call is reserved and counted like any other. */
  private async title(
    auth: AuthUser,
    thread: ThreadEntity,
    question: string,
    answer: string,
    model: string,
  ): Promise<void> {
    const scope = ownerScope(auth.userId);
    try {
      const prompt =
        TITLE_PROMPT_OVERHEAD +
        this.tokens.countText(question.slice(0, 1000)) +
        this.tokens.countText(answer.slice(0, 1000));
      const reservation = await this.quota.reserve(auth.userId, prompt, TITLE_REPLY_BUDGET).catch(() => null);
      let usage: TokenUsage | null = null;
      const title = reservation
        ? await generateTitle(this.provider, model, question, answer, AbortSignal.timeout(10_000), {
            maxTokens: reservation.maxTokens,
            onUsage: (spent) => (usage = spent),
          })
        : fallbackTitle(question); // no quota left today for a model call
      // A provider that reports no usage is counted locally, as replies are.
      await reservation?.settle(usage ?? { promptTokens: prompt, completionTokens: this.tokens.countText(title) });
      const current = await this.threads.findById(scope, thread.id);
      if (!current || current.title !== DEFAULT_TITLE) {
        return; // deleted or renamed by the user meanwhile
      }
      const updated = await this.threads.update(scope, thread.id, { title });
      if (updated) {
        this.bus.publish({
          type: 'thread:updated',
          threadId: thread.id,
          ownerId: auth.userId,
          thread: toThreadView(updated),
        });
      }
    } catch (err) {
      this.logger.warn({ err }, 'title generation failed');
    }
  }

  /**
   * The prompt: the system prompt and the newest turns of the branch ending at `leafId` (null: a new root) that fit
   * the window minus the reply budget, then `newTurn` (a message not stored yet: the quota is reserved first).
   */
  private async buildContext(
    scope: OwnerScope,
    thread: ThreadEntity,
    leafId: string | null,
    newTurn: ChatTurn | null,
    model: string,
    maxTokens?: number,
  ): Promise<{ context: FittedContext; replyBudget: number }> {
    const info = await this.catalog.resolve(model);
    const replyBudget = Math.min(maxTokens ?? DEFAULT_REPLY_BUDGET, Math.floor(info.contextWindow / 2));
    const toTurn = (m: MessageEntity): ChatTurn => ({ role: m.role, content: m.content });
    // Read the branch backwards a page at a time, only as far as the window can reach.
    const items: MessageEntity[] = [];
    let before: string | null = null;
    let total = 0;
    let tokens = newTurn ? this.tokens.countTurns([newTurn]) : 0;
    if (leafId) {
      do {
        const page = await this.messages.branch(scope, thread.id, leafId, { limit: HISTORY_PAGE, before });
        items.unshift(...page.items);
        total = page.total;
        tokens += this.tokens.countTurns(page.items.map(toTurn));
        before = page.nextBefore;
      } while (before && tokens < info.contextWindow - replyBudget);
    }
    // A reply that failed before its first token has nothing to show the model.
    const history = items.filter((m) => m.role === 'user' || m.content.length > 0).map(toTurn);
    const fitted = fitContext({
      systemPrompt: thread.systemPrompt,
      history: newTurn ? [...history, newTurn] : history,
      contextWindow: info.contextWindow,
      replyBudget,
      count: (turns) => this.tokens.countTurns(turns),
    });
    return { context: { ...fitted, omitted: fitted.omitted + (total - items.length) }, replyBudget };
  }

  /**
   * Takes the thread's generation lease. When it is taken and the request is a retry of one already stored
   * (same clientMessageId), answers with the stored messages instead of a conflict.
   */
  private async acquire(scope: OwnerScope, thread: ThreadEntity, clientMessageId?: string): Promise<string | Started> {
    const holder = `${this.instanceId}:${randomUUID()}`;
    const now = new Date();
    if (await this.threads.acquireGenerationLease(scope, thread.id, holder, new Date(now.getTime() + LEASE_MS), now)) {
      return holder;
    }
    if (clientMessageId) {
      // The same retry may be racing its original by a few milliseconds: give the original time to store it.
      for (let attempt = 0; attempt < 20; attempt++) {
        const replay = await this.replay(scope, thread, clientMessageId);
        if (replay) {
          return replay;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    throw new AppError('conflict', 'A reply is already being generated in this thread');
  }

  /** The stored user message with this clientMessageId and the reply generated for it, if any. */
  private async replay(scope: OwnerScope, thread: ThreadEntity, clientMessageId: string): Promise<Started | null> {
    const userMessage = await this.messages.findByClientMessageId(scope, thread.id, clientMessageId);
    if (!userMessage) {
      return null;
    }
    for (let attempt = 0; attempt < 20; attempt++) {
      const [assistant] = await this.messages.children(scope, thread.id, userMessage.id);
      if (assistant) {
        const run = this.runs.get(thread.id);
        return { userMessage, assistantMessage: assistant, run: run?.messageId === assistant.id ? run : null };
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new AppError('conflict', 'This message is still being stored; retry shortly');
  }
}
