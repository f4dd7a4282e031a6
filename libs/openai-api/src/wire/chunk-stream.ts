import { startEventStream } from '@app/chat';
import type { TokenUsage } from '@app/persistence';
import type { Response } from 'express';
import { chunkObject, type CompletionIdentity, toOpenAiUsage } from './completion-shapes';
import type { OpenAiErrorObject } from './openai-error';

/** A comment line this often while nothing else is written, so proxies and clients keep the stream open. */
export const HEARTBEAT_MS = 15_000;

/**
 * Writes one streamed completion as OpenAI does: `data: <chat.completion.chunk>` frames (no `event:` lines), the
 * role first, one chunk per delta, the finish reason, with `include_usage` a last chunk with `choices: []` and the
 * usage, then `data: [DONE]`. An error after the stream began is a `data: {"error": ...}` frame, which OpenAI's SDKs
 * raise, and the stream ends without `[DONE]`. `: ping` comments fill silences of `heartbeatMs`.
 */
export class ChunkStream {
  private readonly heartbeat: NodeJS.Timeout;
  private ended = false;

  constructor(
    private readonly res: Response,
    private readonly identity: CompletionIdentity,
    private readonly includeUsage: boolean,
    heartbeatMs = HEARTBEAT_MS,
  ) {
    startEventStream(res);
    this.heartbeat = setInterval(() => this.res.write(': ping\n\n'), heartbeatMs);
    res.once('close', () => this.stopHeartbeat());
    this.chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  }

  /** Reasoning goes in `reasoning_content`, the field OpenAI-compatible servers (DeepSeek, vLLM) stream it in. */
  delta(text: string, kind: 'content' | 'reasoning' = 'content'): void {
    if (text) {
      const delta = kind === 'reasoning' ? { reasoning_content: text } : { content: text };
      this.chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]);
    }
  }

  finish(usage: TokenUsage): void {
    this.chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    if (this.includeUsage) {
      this.data(chunkObject(this.identity, [], toOpenAiUsage(usage)));
    }
    this.write('data: [DONE]\n\n');
    this.end();
  }

  fail(error: OpenAiErrorObject): void {
    this.data({ error });
    this.end();
  }

  private chunk(choices: unknown[]): void {
    this.data(chunkObject(this.identity, choices, this.includeUsage ? null : undefined));
  }

  private data(value: unknown): void {
    this.write(`data: ${JSON.stringify(value)}\n\n`);
  }

  private write(text: string): void {
    if (!this.ended) {
      this.res.write(text);
      // Silence is measured from the last frame, not from the start.
      this.heartbeat.refresh();
    }
  }

  private end(): void {
    if (!this.ended) {
      this.ended = true;
      this.stopHeartbeat();
      this.res.end();
    }
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }
}
