import { type ChatTurn, fitContext, type FittedContext, type ModelInfo, TokenCounter } from '@app/ai';
import { MessageRepository, type MessageEntity, type OwnerScope, type ThreadEntity } from '@app/persistence';
import { Injectable } from '@nestjs/common';

/** History is read this many messages at a time, newest first, until the context window is full. */
const HISTORY_PAGE = 100;
/** Reply budget when the client sets none. */
export const DEFAULT_REPLY_BUDGET = 1024;

export interface Prompt {
  context: FittedContext;
  /** Tokens kept free for the reply: the request's (or the thread's) budget, at most half the window. */
  replyBudget: number;
}

/**
 * The prompt of a reply: the thread's system prompt and the newest turns of the branch that fit the model's window
 * minus the reply budget, then the new turn. The branch is read backwards a page at a time, only as far as the window
 * can reach, and each turn is counted once (fitting reuses the counts).
 */
@Injectable()
export class PromptBuilder {
  constructor(
    private readonly messages: MessageRepository,
    private readonly tokens: TokenCounter,
  ) {}

  /**
   * `leafId`: the last stored message of the branch (null: a new root); `newTurn`: a message not stored yet (the
   * quota is reserved before it is); `model`: already resolved by the caller.
   */
  async build(
    scope: OwnerScope,
    thread: ThreadEntity,
    leafId: string | null,
    newTurn: ChatTurn | null,
    model: ModelInfo,
    maxTokens?: number,
  ): Promise<Prompt> {
    const replyBudget = Math.min(maxTokens ?? DEFAULT_REPLY_BUDGET, Math.floor(model.contextWindow / 2));
    const counted = new Map<ChatTurn, number>();
    const priming = this.tokens.countTurns([]); // the reply's priming, counted once per prompt
    const turnOf = (m: MessageEntity): ChatTurn => ({ role: m.role, content: m.content });
    const items: { message: MessageEntity; turn: ChatTurn }[] = [];
    let before: string | null = null;
    let total = 0;
    let tokens = newTurn ? priming + this.cost(newTurn, counted) : 0;
    if (leafId) {
      do {
        const page = await this.messages.branch(scope, thread.id, leafId, { limit: HISTORY_PAGE, before });
        const turns = page.items.map((message) => ({ message, turn: turnOf(message) }));
        items.unshift(...turns);
        total = page.total;
        tokens += priming + turns.reduce((sum, { turn }) => sum + this.cost(turn, counted), 0);
        before = page.nextBefore;
      } while (before && tokens < model.contextWindow - replyBudget);
    }
    // A reply that failed before its first token has nothing to show the model.
    const history = items.filter(({ message }) => message.role === 'user' || message.content.length > 0);
    const turns = history.map(({ turn }) => turn);
    const fitted = fitContext({
      systemPrompt: thread.systemPrompt,
      history: newTurn ? [...turns, newTurn] : turns,
      contextWindow: model.contextWindow,
      replyBudget,
      count: (candidate) => priming + candidate.reduce((sum, turn) => sum + this.cost(turn, counted), 0),
    });
    return { context: { ...fitted, omitted: fitted.omitted + (total - items.length) }, replyBudget };
  }

  /** A turn's tokens with its message overhead, counted the first time it is asked for. */
  private cost(turn: ChatTurn, counted: Map<ChatTurn, number>): number {
    let cost = counted.get(turn);
    if (cost === undefined) {
      cost = this.tokens.countTurns([turn]) - this.tokens.countTurns([]); // its text and its message overhead
      counted.set(turn, cost);
    }
    return cost;
  }
}
