import { Injectable } from '@nestjs/common';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { ChatTurn } from './model-provider';

/** Tokens a chat message costs beyond its text (role and separators), as OpenAI documents for its chat format. */
export const TOKENS_PER_MESSAGE = 4;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
export const TOKENS_PER_REPLY = 3;

// The pipeline counts the same history on every send; long texts are worth remembering.
const CACHE_MIN_LENGTH = 256;
const CACHE_MAX_CHARS = 4_000_000;
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * Counts tokens with a real BPE tokenizer (o200k_base, the encoding of current OpenAI models; a close estimate for
 * other model families). Special-token markers in user text count as plain text instead of throwing.
 */
@Injectable()
export class TokenCounter {
  private readonly cache = new Map<string, number>();
  private cachedChars = 0;

  countText(text: string): number {
    if (text.length < CACHE_MIN_LENGTH) {
      return countTokens(text, AS_PLAIN_TEXT);
    }
    const cached = this.cache.get(text);
    if (cached !== undefined) {
      // Re-insert so the map's order is least-recently used first.
      this.cache.delete(text);
      this.cache.set(text, cached);
      return cached;
    }
    const count = countTokens(text, AS_PLAIN_TEXT);
    if (text.length <= CACHE_MAX_CHARS / 4) {
      this.cache.set(text, count);
      this.cachedChars += text.length;
      for (const key of this.cache.keys()) {
        if (this.cachedChars <= CACHE_MAX_CHARS) {
          break;
        }
        this.cache.delete(key);
        this.cachedChars -= key.length;
      }
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
}
