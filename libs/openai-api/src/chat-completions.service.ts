import type { AuthUser } from '@app/auth';
import { AppError, errorBody } from '@app/common';
import {
  CompletionService,
  CONTENT_MAX,
  GenerationService,
  ReplyFollower,
  type Started,
  ThreadService,
  UserEventRate,
} from '@app/chat';
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { randomBytes } from 'node:crypto';
import { ChunkStream } from './wire/chunk-stream';
import { completionObject, type CompletionIdentity } from './wire/completion-shapes';
import { toOpenAiError } from './wire/openai-error';
import type { CompletionRequestInput } from './wire/request-translation';

/** `X-Confab-Thread: new` starts a thread from the request's messages; an id continues that thread. */
export type ThreadTarget = { kind: 'none' } | { kind: 'new' } | { kind: 'existing'; threadId: string };

const newCompletionId = () => `chatcmpl-${randomBytes(12).toString('base64url')}`;
const unixNow = () => Math.floor(Date.now() / 1000);

/**
 * Runs OpenAI chat completions on the one generation pipeline: stateless (`CompletionService.complete`, nothing
 * stored but usage), or saved into a thread (`GenerationService.send`, the same path as the web app, so the
 * thread's sockets see it live). Either way the client's disconnect stops the upstream request, and the same limits
 * hold as for the web app: the per-user request budget shared with REST sends and sockets, the user's concurrent
 * generations, and the daily quota reserved before the call (which caps max_tokens).
 */
@Injectable()
export class ChatCompletionsService {
  constructor(
    private readonly generation: GenerationService,
    private readonly completions: CompletionService,
    private readonly threads: ThreadService,
    private readonly follower: ReplyFollower,
    private readonly rate: UserEventRate,
  ) {}

  async complete(auth: AuthUser, input: CompletionRequestInput, target: ThreadTarget, res: Response): Promise<void> {
    this.rate.consume(auth.userId);
    if (target.kind === 'none') {
      await this.stateless(auth, input, res);
    } else {
      await this.inThread(auth, input, target, res);
    }
  }

  private async stateless(auth: AuthUser, input: CompletionRequestInput, res: Response): Promise<void> {
    const abort = new AbortController();
    const completion = await this.completions.complete(auth, {
      model: input.model,
      messages: input.turns,
      temperature: input.temperature,
      topP: input.topP,
      maxTokens: input.maxTokens,
      stop: input.stop,
      signal: abort.signal,
    });
    abortOnDisconnect(res, () => abort.abort());
    const identity: CompletionIdentity = { id: newCompletionId(), model: completion.model, created: unixNow() };
    if (!input.stream) {
      const outcome = await completion.run(() => undefined);
      if (!outcome.aborted) {
        res.status(200).json(completionObject(identity, outcome.content, outcome.usage, outcome.reasoning));
      }
      return;
    }
    const stream = new ChunkStream(res, identity, input.includeUsage);
    try {
      const outcome = await completion.run((text, kind) => stream.delta(text, kind));
      if (!outcome.aborted) {
        stream.finish(outcome.usage);
      }
    } catch (err) {
      stream.fail(toOpenAiError(errorBody(asAppError(err))).error);
    }
  }

  private async inThread(
    auth: AuthUser,
    input: CompletionRequestInput,
    target: Exclude<ThreadTarget, { kind: 'none' }>,
    res: Response,
  ): Promise<void> {
    const last = input.turns[input.turns.length - 1];
    if (last.role !== 'user' || last.content.length === 0 || last.content.length > CONTENT_MAX) {
      throw AppError.validation([
        {
          field: `messages[${input.turns.length - 1}]`,
          message: `With X-Confab-Thread the last message must be a user message of 1 to ${CONTENT_MAX} characters`,
        },
      ]);
    }
    const thread =
      target.kind === 'new'
        ? await this.threads.createFromConversation(auth, { model: input.model, turns: input.turns.slice(0, -1) })
        : await this.threads.find(auth, target.threadId);
    let started: Started;
    try {
      started = await this.generation.send(auth, thread.id, {
        content: last.content,
        model: input.model,
        temperature: input.temperature,
        maxTokens: input.maxTokens,
      });
    } catch (err) {
      // Refused (quota, rate limit ...): a thread made for this call would only be an empty leftover.
      if (target.kind === 'new') {
        await this.threads.delete(auth, thread.id).catch(() => undefined);
      }
      throw err;
    }
    res.setHeader('X-Confab-Thread', thread.id);
    abortOnDisconnect(res, () => void this.generation.stop(auth, thread.id).catch(() => undefined));
    const identity: CompletionIdentity = {
      id: `chatcmpl-${started.assistantMessage.id}`,
      model: started.assistantMessage.model,
      created: Math.floor(started.assistantMessage.createdAt.getTime() / 1000),
    };
    if (input.stream) {
      await this.streamReply(auth, started, new ChunkStream(res, identity, input.includeUsage));
      return;
    }
    const { assistantMessage } = await this.follower.outcome(auth.userId, started);
    if (!res.writableEnded && !res.destroyed) {
      res.status(200).json(completionObject(identity, assistantMessage.content, usageOf(assistantMessage.usage)));
    }
  }

  private async streamReply(auth: AuthUser, started: Started, stream: ChunkStream): Promise<void> {
    await this.follower.attach(
      auth.userId,
      started,
      (sofar) => stream.delta(sofar.content),
      (event) => {
        switch (event.type) {
          case 'message:delta':
            stream.delta(event.delta);
            return;
          case 'message:done':
            stream.finish(usageOf(event.message.usage));
            return;
          case 'message:error':
            stream.fail(toOpenAiError({ statusCode: 0, error: event.error.code, message: event.error.message }).error);
            return;
        }
      },
    );
  }
}

function usageOf(usage: { promptTokens: number; completionTokens: number } | null) {
  return usage ?? { promptTokens: 0, completionTokens: 0 };
}

function asAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('internal', 'Internal server error');
}

/** Runs `abort` when the client closes the connection before the response is complete. */
function abortOnDisconnect(res: Response, abort: () => void): void {
  res.once('close', () => {
    if (!res.writableFinished) {
      abort();
    }
  });
}
