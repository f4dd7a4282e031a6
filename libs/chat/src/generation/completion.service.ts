import type { AuthUser } from '@app/auth';
import { type CompletionRequest, ModelCatalog, ModelProvider, TokenCounter } from '@app/ai';
import { APP_CONFIG, type AppConfig, AppError } from '@app/common';
import { Inject, Injectable } from '@nestjs/common';
import { GenerationSlots } from './generation-slots';
import { LEASE_RENEW_MS } from './lease';
import { DEFAULT_REPLY_BUDGET } from './prompt-builder';
import { type QuotaReservation, ReplyQuota } from './reply-quota';
import { RunRegistry } from './run-registry';
import { StatelessCompletion } from './stateless-completion';

/**
 * A completion on messages given whole (the OpenAI-compatible API without a thread): the provider's request as the
 * caller states it; its `signal` is the caller's (the client went away), and `maxTokens` is capped by the quota.
 */
export type CompletionInput = CompletionRequest;

/**
 * Completions that store nothing but their usage (the OpenAI-compatible API without `X-Confab-Thread`): the same
 * quota, model and concurrency checks as a thread's reply, the given messages as the whole context (refused when
 * they do not fit the model's window, never cut silently), the same provider port.
 */
@Injectable()
export class CompletionService {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly provider: ModelProvider,
    private readonly tokens: TokenCounter,
    private readonly quota: ReplyQuota,
    private readonly slots: GenerationSlots,
    private readonly registry: RunRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Throws before anything streams when refused. */
  async complete(auth: AuthUser, input: CompletionInput): Promise<StatelessCompletion> {
    this.registry.assertAccepting();
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
    const tracked = this.registry.completion(auth.userId);
    const request = {
      model: model.id,
      messages: input.messages,
      temperature: input.temperature,
      topP: input.topP,
      maxTokens: reservation.maxTokens,
      stop: input.stop,
      signal: AbortSignal.any([input.signal, tracked.signal]),
    };
    return new StatelessCompletion(
      request,
      this.provider,
      (content, reasoning) => this.tokens.estimateUsage(promptTokens, content, reasoning),
      async (usage) => {
        clearInterval(renew);
        tracked.done();
        await Promise.all([reservation.settle(usage), slot.release()]);
      },
      this.config.maxReplyChars,
    );
  }
}
