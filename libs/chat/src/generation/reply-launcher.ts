import { DEFAULT_TITLE, type ModelInfo, ModelProvider, TokenCounter } from '@app/ai';
import { APP_CONFIG, type AppConfig, ConfabMetrics } from '@app/common';
import {
  MessageRepository,
  type MessageEntity,
  type OwnerScope,
  ThreadRepository,
  type ThreadEntity,
} from '@app/persistence';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { GenerationOptionsDto } from '../dto/send-message.dto';
import { ThreadEventBus } from '../events/thread-event-bus';
import { GenerationRun, type RunOutcome } from './generation-run';
import type { GenerationSlot } from './generation-slots';
import type { Prompt } from './prompt-builder';
import type { QuotaReservation } from './reply-quota';
import { OpenedStream } from './opened-stream';
import { ReplyFlusher } from './reply-flusher';
import { RunRegistry } from './run-registry';
import type { Started } from './started';
import type { ThreadLease } from './thread-lease';
import { ThreadTitler } from './thread-titler';

/** What a generation holds from its start until it is done, given back whatever happens. */
export interface Claim {
  lease: ThreadLease;
  slot: GenerationSlot;
  reservation: QuotaReservation;
  prompt: Prompt;
}

/**
 * Starts a reply once everything it needs is claimed: the streaming placeholder (made the active leaf), the
 * `GenerationRun` on the provider stream `open` started, announced (`message:created`), registered here and run at
 * once (its events are published on later turns of the event loop, so the caller subscribes first); then its outcome: metrics, usage settled, a title after a first exchange, and what it
 * held given back.
 */
@Injectable()
export class ReplyLauncher {
  private readonly logger = new Logger('GenerationService');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
    private readonly provider: ModelProvider,
    private readonly tokens: TokenCounter,
    private readonly bus: ThreadEventBus,
    private readonly registry: RunRegistry,
    private readonly titler: ThreadTitler,
    private readonly flusher: ReplyFlusher,
    private readonly metrics: ConfabMetrics,
  ) {}

  /**
   * Opens the reply's provider stream as soon as its prompt and budget are claimed, before anything is stored: the
   * upstream request goes out now and the model works while the caller stores the question and `launch` the
   * placeholder. One turn of the event loop passes, so that the SDK's chain of promises has put the request on the
   * wire before those synchronous writes. The caller cancels it if the reply does not start after all.
   */
  async open(
    thread: ThreadEntity,
    model: ModelInfo,
    options: GenerationOptionsDto,
    claim: Claim,
  ): Promise<OpenedStream> {
    const opened = new OpenedStream(this.provider, {
      model: model.id,
      messages: claim.prompt.context.messages,
      // The request's settings win; the thread's are the defaults (the reply budget was settled in the claim).
      temperature: options.temperature ?? thread.temperature ?? undefined,
      maxTokens: claim.reservation.maxTokens,
    });
    await new Promise((resolve) => setImmediate(resolve));
    return opened;
  }

  /**
   * `question`: the stored user message the reply answers; `model`: resolved once by the caller; `opened`: its
   * provider stream (`open`).
   */
  async launch(
    scope: OwnerScope,
    thread: ThreadEntity,
    question: MessageEntity,
    model: ModelInfo,
    options: GenerationOptionsDto,
    claim: Claim,
    opened: OpenedStream,
  ): Promise<Started> {
    const { context } = claim.prompt;
    const { message: assistant } = await this.messages.create(scope, {
      threadId: thread.id,
      parentId: question.id,
      role: 'assistant',
      content: '',
      model: model.id,
      status: 'streaming',
    });
    await this.threads.update(scope, thread.id, { activeLeafId: assistant.id });
    const run = new GenerationRun(
      {
        scope,
        threadId: thread.id,
        assistant,
        model: model.id,
        turns: context.messages,
        contextOmitted: context.omitted,
        temperature: options.temperature ?? thread.temperature ?? undefined,
        maxTokens: claim.reservation.maxTokens,
        opened,
        maxChars: this.config.maxReplyChars,
        coalesceMs: this.config.deltaCoalesceMs,
        flusher: this.flusher,
        estimateUsage: (answer, reasoning) => this.tokens.estimateUsage(context.promptTokens, answer, reasoning),
        onFirstToken: (ms) => this.metrics.timeToFirstToken.observe({ model: model.id }, ms / 1000),
      },
      this.provider,
      this.messages,
      this.bus,
    );
    const created = run.view(assistant);
    this.bus.publish({ type: 'message:created', threadId: thread.id, message: created });
    this.metrics.activeGenerations.inc();
    this.registry.add(run, () => this.execute(scope, thread, question, run, claim));
    return { userMessage: question, assistantMessage: assistant, created, local: run.handle };
  }

  private async execute(
    scope: OwnerScope,
    thread: ThreadEntity,
    question: MessageEntity,
    run: GenerationRun,
    claim: Claim,
  ): Promise<void> {
    claim.lease.keep(this.messages, run, () => claim.slot.renew());
    try {
      const outcome = await run.generate();
      this.record(outcome);
      await claim.reservation.settle(outcome.persisted ? outcome.message.usage : null);
      const { status, content, model } = outcome.message;
      if (status === 'complete' && question.parentId === null && thread.title === DEFAULT_TITLE) {
        void this.titler.name(scope, thread.id, question.content, content, model);
      }
    } catch (err) {
      this.logger.error({ err }, 'generation pipeline failed');
    } finally {
      this.registry.forget(run);
      this.metrics.activeGenerations.dec();
      await Promise.all([claim.lease.release().catch(() => undefined), claim.slot.release()]);
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
}
