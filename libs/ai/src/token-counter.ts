import type { TokenUsage } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { countTokens, setMergeCacheSize } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatTurn } from './model-provider';

/** Tokens a chat message costs beyond its text (role and separators), as OpenAI documents for its chat format. */
export const TOKENS_PER_MESSAGE = 4;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
export const TOKENS_PER_REPLY = 3;

/**
 * Texts up to this many characters are counted exactly; longer ones are estimated from evenly spaced samples.
 * The tokenizer is pure JavaScript at roughly 1-3 µs per character on unusual text (random words, CJK, base64), so
 * exact counting of a 5 MB reply held the event loop for seconds; 4096 characters cost a few milliseconds.
 */
export const EXACT_COUNT_MAX_CHARS = 4096;
const SAMPLES = 8;
const SAMPLE_CHARS = 256;
/**
 * The tokenizer's byte-pair merge is quadratic in the length of one pre-tokenized piece, and a run without
 * whitespace (or of whitespace only) is one piece: 100,000 such characters held the event loop for 8.5 s. Runs are
 * counted in slices of this length instead (a slice boundary can add a token where the model would have merged two,
 * so such runs are over-counted by at most one token per slice).
 */
export const RUN_SLICE_CHARS = 128;
const LONG_RUN = new RegExp(`\\S{${RUN_SLICE_CHARS + 1},}|\\s{${RUN_SLICE_CHARS + 1},}`, 'g');

// The pipeline counts the same history on every send; long texts are worth remembering.
const CACHE_MIN_LENGTH = 256;
const CACHE_MAX_ENTRIES = 2048;
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
// The tokenizer's own merge cache (100,000 pieces by default) evicts its oldest entry by iterating a Map that
// deletions have left full of holes: once full, counting random words got 25 times slower (370 ms for 8 KB).
// A small cache keeps the common pieces and none of that cost.
setMergeCacheSize(1000);

/**
 * Counts tokens with a real BPE tokenizer (o200k_base, the encoding of current OpenAI models; a close estimate for
 * other model families). Special-token markers in user text count as plain text instead of throwing. The cost of
 * one call is bounded whatever the text: exact up to EXACT_COUNT_MAX_CHARS (long runs sliced), estimated above.
 */
@Injectable()
export class TokenCounter {
  private readonly cache = new Map<string, number>();

  countText(text: string): number {
    if (text.length < CACHE_MIN_LENGTH) {
      return countBounded(text);
    }
    const cached = this.cache.get(text);
    if (cached !== undefined) {
      // Re-insert so the map's order is least-recently used first.
      this.cache.delete(text);
      this.cache.set(text, cached);
      return cached;
    }
    const count = text.length <= EXACT_COUNT_MAX_CHARS ? countBounded(text) : estimate(text);
    this.cache.set(text, count);
    if (this.cache.size > CACHE_MAX_ENTRIES) {
      // The map holds references to strings the messages hold anyway; entries, not characters, are what it costs.
      this.cache.delete(this.cache.keys().next().value!);
    }
    return count;
  }

  /** The prompt size of these turns as the model will see them, reply priming included. */
  countTurns(turns: readonly ChatTurn[]): number {
    let total = TOKENS_PER_REPLY;
    for (const turn of turns) {
      total += TOKENS_PER_MESSAGE + this.countText(turn.content);
    }
    return total;
  }

  /**
   * The one estimate of a reply's usage when its upstream reported none (or it ended before the upstream could):
   * the prompt as sent, and the answer and the thinking text as received (thinking is billed as completion tokens
   * by every provider that reports it).
   */
  estimateUsage(prompt: number | readonly ChatTurn[], answer: string, reasoning = ''): TokenUsage {
    return {
      promptTokens: typeof prompt === 'number' ? prompt : this.countTurns(prompt),
      completionTokens: this.countText(answer) + this.countText(reasoning),
    };
  }
}

/** Exact for ordinary text; runs longer than RUN_SLICE_CHARS are counted a slice at a time (linear, not quadratic). */
function countBounded(text: string): number {
  let total = 0;
  let from = 0;
  LONG_RUN.lastIndex = 0;
  for (let match = LONG_RUN.exec(text); match; match = LONG_RUN.exec(text)) {
    total += countTokens(text.slice(from, match.index), AS_PLAIN_TEXT);
    const run = match[0];
    for (let i = 0; i < run.length; i += RUN_SLICE_CHARS) {
      total += countTokens(run.slice(i, i + RUN_SLICE_CHARS), AS_PLAIN_TEXT);
    }
    from = match.index + run.length;
  }
  return total + countTokens(from === 0 ? text : text.slice(from), AS_PLAIN_TEXT);
}

/** Tokens of a long text from SAMPLES evenly spaced windows (cut at whitespace when there is some nearby). */
function estimate(text: string): number {
  const stride = Math.floor(text.length / SAMPLES);
  let chars = 0;
  let tokens = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const start = snapToSpace(text, i * stride);
    const end = snapToSpace(text, Math.min(text.length, start + SAMPLE_CHARS));
    if (end <= start) {
      continue;
    }
    chars += end - start;
    tokens += countBounded(text.slice(start, end));
  }
  return chars === 0 ? 0 : Math.ceil((tokens / chars) * text.length);
}

/** The next whitespace at or after `at` within 32 characters (so samples do not start mid-word), else `at`. */
function snapToSpace(text: string, at: number): number {
  const limit = Math.min(text.length, at + 32);
  for (let i = at; i < limit; i++) {
    const code = text.charCodeAt(i);
    if (code === 32 || code === 10 || code === 9 || code === 13) {
      return i;
    }
  }
  // Never start or end a sample between the halves of a surrogate pair.
  const code = text.charCodeAt(at);
  return code >= 0xdc00 && code <= 0xdfff ? at + 1 : at;
}
