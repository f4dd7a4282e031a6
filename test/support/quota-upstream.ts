import type { RecordedRequest, FakeUpstream } from './fake-upstream';

/** The reply budget a request sent upstream (`max_tokens`, or the newer `max_completion_tokens`). */
export const maxTokensOf = (r: RecordedRequest) =>
  (r.body.max_tokens ?? r.body.max_completion_tokens) as number | undefined;

/** The prompt as a provider bills it: a token a word plus the chat framing, as the server counts it for such text. */
export const promptOf = (r: RecordedRequest) =>
  (r.body.messages ?? []).reduce((n, m) => n + 4 + String(m.content).split(/\s+/).filter(Boolean).length, 3);

/**
 * A provider that honours max_tokens and bills what it did: replies want `replyTokens` tokens, a request's budget
 * cuts them, and the usage reports the prompt and the tokens sent.
 */
export function billByMaxTokens(upstream: FakeUpstream, replyTokens: number): void {
  upstream.script = (_body, request) => {
    const n = Math.min(replyTokens, maxTokensOf(request) ?? replyTokens);
    return {
      tokens: Array.from({ length: n }, () => ' w'),
      usage: { prompt_tokens: promptOf(request), completion_tokens: n },
    };
  };
}
