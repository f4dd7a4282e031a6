import { DEFAULT_TITLE, fallbackTitle, generateTitle, ModelProvider, TITLE_TIMEOUT_MS, TokenCounter } from '@app/ai';
import { type OwnerScope, ThreadRepository, type TokenUsage } from '@app/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { ThreadEventBus } from '../events/thread-event-bus';
import { toThreadView } from '../presenters';
import { ReplyQuota } from './reply-quota';

/** A title is a few words: its reply budget, and a generous count of its instruction and framing. */
const TITLE_REPLY_BUDGET = 24;
const TITLE_PROMPT_OVERHEAD = 80;

/** Names a new thread after its first exchange; the model call is reserved and counted like any other. */
@Injectable()
export class ThreadTitler {
  private readonly logger = new Logger(ThreadTitler.name);

  constructor(
    private readonly provider: ModelProvider,
    private readonly threads: ThreadRepository,
    private readonly tokens: TokenCounter,
    private readonly quota: ReplyQuota,
    private readonly bus: ThreadEventBus,
  ) {}

  /** Never throws: a title is a nicety, and a failed one leaves the default title. */
  async name(scope: OwnerScope, threadId: string, question: string, answer: string, model: string): Promise<void> {
    try {
      const prompt =
        TITLE_PROMPT_OVERHEAD +
        this.tokens.countText(question.slice(0, 1000)) +
        this.tokens.countText(answer.slice(0, 1000));
      const reservation = await this.quota.reserve(scope.ownerId, prompt, TITLE_REPLY_BUDGET).catch(() => null);
      let usage: TokenUsage | null = null;
      const title = reservation
        ? await generateTitle(this.provider, model, question, answer, AbortSignal.timeout(TITLE_TIMEOUT_MS), {
            maxTokens: reservation.maxTokens,
            onUsage: (spent) => (usage = spent),
          })
        : fallbackTitle(question); // no quota left today for a model call
      // A provider that reports no usage is counted locally, as replies are.
      await reservation?.settle(usage ?? this.tokens.estimateUsage(prompt, title));
      const current = await this.threads.findById(scope, threadId);
      if (!current || current.title !== DEFAULT_TITLE) {
        return; // deleted or renamed by the user meanwhile
      }
      const updated = await this.threads.update(scope, threadId, { title });
      if (updated) {
        this.bus.publish({ type: 'thread:updated', threadId, ownerId: scope.ownerId, thread: toThreadView(updated) });
      }
    } catch (err) {
      this.logger.warn({ err }, 'title generation failed');
    }
  }
}
