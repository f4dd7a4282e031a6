import { AccountEvents, type AuthUser } from '@app/auth';
import { APP_CONFIG, AppError, type AppConfig, ConfabMetrics, DrainState, utcDayBounds } from '@app/common';
import { fitContext, generateTitle, ModelCatalog, ModelProvider, TokenCounter, type ChatTurn } from '@app/ai';
import {
  MessageRepository,
  ownerScope,
  ThreadRepository,
  UsageRepository,
  type MessageEntity,
  type OwnerScope,
  type ThreadEntity,
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
import { LEASE_MS, LEASE_RENEW_MS } from './lease';
import { StatelessCompletion } from './stateless-completion';
import { ThreadEventBus } from '../events/thread-event-bus';

/** History is read this many messages at a time, newest first, until the context window is full. */
const HISTORY_PAGE = 100;
/** Reply budget when the client sets none. */
const DEFAULT_REPLY_BUDGET = 1024;

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
    private readonly usage: UsageRepository,
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
    await this.checkQuota(auth);
    const model = await this.catalog.resolve(dto.model ?? thread.model);
    const holder = await this.acquire(scope, thread, dto.clientMessageId);
    if (typeof holder !== 'string') {
      return holder;
    }
    try {
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
        await this.threads.releaseGenerationLease(scope, thread.id, holder);
        return (await this.replay(scope, thread, dto.clientMessageId!))!;
      }
      this.bus.publish({ type: 'message:created', threadId: thread.id, message: toMessageView(userMessage) });
      return await this.start(auth, thread, userMessage, model.id, dto, holder);
    } catch (err) {
      await this.threads.releaseGenerationLease(scope, thread.id, holder);
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
    await this.checkQuota(auth);
    const model = await this.catalog.resolve(dto.model ?? thread.model);
    const holder = await this.acquire(scope, thread);
    if (typeof holder !== 'string') {
      throw new AppError('conflict', 'A reply is already being generated in this thread');
    }
    try {
      return await this.start(auth, thread, question, model.id, dto, holder);
    } catch (err) {
      await this.threads.releaseGenerationLease(scope, thread.id, holder);
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
    await this.checkQuota(auth);
    const model = await this.catalog.resolve(input.model);
    const promptTokens = this.tokens.countTurns(input.messages);
    if (promptTokens + (input.maxTokens ?? 0) > model.contextWindow) {
      throw AppError.validation([
        {
          field: 'messages',
          message: `The messages take ${promptTokens} tokens${input.maxTokens ? ` and max_tokens ${input.maxTokens}` : ''}: more than the model's context window of ${model.contextWindow}`,
        },
      ]);
    }
    const tracked = { ownerId: auth.userId, abort: new AbortController() };
    const request = {
      model: model.id,
      messages: input.messages,
      temperature: input.temperature,
      topP: input.topP,
      maxTokens: input.maxTokens,
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
        this.completions.delete(tracked);
        await this.usage.add(auth.userId, usage, new Date());
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
    holder: string,
  ): Promise<Started> {
    const scope = ownerScope(auth.userId);
    // The request's settings win; the thread's are the defaults.
    const temperature = options.temperature ?? thread.temperature ?? undefined;
    const maxTokens = options.maxTokens ?? thread.maxTokens ?? undefined;
    const context = await this.buildContext(scope, thread, userMessage, model, maxTokens);
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
        maxTokens,
        promptTokens: context.promptTokens,
        maxChars: this.config.maxReplyChars,
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
      const execution = this.execute(auth, thread, userMessage, run, holder);
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
    holder: string,
  ): Promise<void> {
    const scope = ownerScope(auth.userId);
    // The lease frees the thread after a crash; touching the reply tells the ReplySweeper it is still alive.
    const renew = setInterval(() => {
      void Promise.all([
        this.threads.renewGenerationLease(scope, thread.id, holder, new Date(Date.now() + LEASE_MS)),
        this.messages.update(scope, run.messageId, {}),
      ]).catch((err: unknown) => this.logger.warn({ err }, 'lease renewal failed'));
    }, LEASE_RENEW_MS);
    try {
      const outcome = await run.run();
      this.record(outcome);
      if (outcome.persisted && outcome.message.usage) {
        await this.usage.add(auth.userId, outcome.message.usage, new Date());
      }
      if (outcome.message.status === 'complete' && userMessage.parentId === null && thread.title === DEFAULT_TITLE) {
        void this.title(scope, thread, userMessage.content, outcome.message.content, outcome.message.model);
      }
    } catch (err) {
      this.logger.error({ err }, 'generation pipeline failed');
    } finally {
      clearInterval(renew);
      this.runs.delete(thread.id);
      this.metrics.activeGenerations.dec();
      await this.threads.releaseGenerationLease(scope, thread.id, holder).catch(() => undefined);
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

  private async title(
    scope: OwnerScope,
    thread: ThreadEntity,
    question: string,
    answer: string,
    model: string,
  ): Promise<void> {
    try {
      const title = await generateTitle(this.provider, model, question, answer, AbortSignal.timeout(10_000));
      const current = await this.threads.findById(scope, thread.id);
      if (!current || current.title !== DEFAULT_TITLE) {
        return; // deleted or renamed by the user meanwhile
      }
      const updated = await this.threads.update(scope, thread.id, { title });
      if (updated) {
        this.bus.publish({ type: 'thread:updated', threadId: thread.id, thread: toThreadView(updated) });
      }
    } catch (err) {
      this.logger.warn({ err }, 'title generation failed');
    }
  }

  private async buildContext(
    scope: OwnerScope,
    thread: ThreadEntity,
    userMessage: MessageEntity,
    model: string,
    maxTokens?: number,
  ) {
    const info = await this.catalog.resolve(model);
    const replyBudget = Math.min(maxTokens ?? DEFAULT_REPLY_BUDGET, Math.floor(info.contextWindow / 2));
    const toTurn = (m: MessageEntity): ChatTurn => ({ role: m.role, content: m.content });
    // Read the branch backwards a page at a time, only as far as the window can reach.
    const items: MessageEntity[] = [];
    let before: string | null = null;
    let total: number;
    let tokens = 0;
    do {
      const page = await this.messages.branch(scope, thread.id, userMessage.id, { limit: HISTORY_PAGE, before });
      items.unshift(...page.items);
      total = page.total;
      tokens += this.tokens.countTurns(page.items.map(toTurn));
      before = page.nextBefore;
    } while (before && tokens < info.contextWindow - replyBudget);
    const fitted = fitContext({
      systemPrompt: thread.systemPrompt,
      // A reply that failed before its first token has nothing to show the model.
      history: items.filter((m) => m.role === 'user' || m.content.length > 0).map(toTurn),
      contextWindow: info.contextWindow,
      replyBudget,
      count: (turns) => this.tokens.countTurns(turns),
    });
    return { ...fitted, omitted: fitted.omitted + (total - items.length) };
  }

  private async checkQuota(auth: AuthUser): Promise<void> {
    const limit = this.config.userDailyTokenLimit;
    if (limit <= 0) {
      return;
    }
    const today = await this.usage.forDay(auth.userId, new Date());
    if (today.promptTokens + today.completionTokens >= limit) {
      const now = new Date();
      const [, midnight] = utcDayBounds(now);
      throw new AppError('quota_exceeded', 'Daily token quota exceeded', {
        retryAfterSeconds: Math.ceil((midnight - now.getTime()) / 1000),
      });
    }
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
