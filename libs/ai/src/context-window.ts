import type { ChatTurn } from './model-provider';

export interface FitContextInput {
  /** Empty or blank: no system message. */
  systemPrompt?: string | null;
  /** Oldest first; the last turn is the newest user message. */
  history: readonly ChatTurn[];
  contextWindow: number;
  /** Tokens kept free for the reply. */
  replyBudget: number;
  /** The prompt size of these turns (e.g. `TokenCounter.countTurns`); adding a turn must never lower it. */
  count: (turns: readonly ChatTurn[]) => number;
}

export interface FittedContext {
  /** The system message first (if any), then the kept history, oldest first. */
  messages: ChatTurn[];
  /** How many of the oldest history turns were left out. */
  omitted: number;
  /** `count(messages)`. */
  promptTokens: number;
  /** The newest message (or, in a window too small even for an empty one, the system prompt) was cut. */
  truncated: boolean;
}

/**
 * Fits a conversation into a model's window: the system prompt and the newest turns that fit in
 * `contextWindow - replyBudget`, dropping the oldest first. The newest turn is always kept; when it alone does not
 * fit, its text is cut from the start (the end of a long message usually holds the question). Only when even an
 * empty newest turn does not fit is the system prompt cut (from its end). The result never exceeds the budget unless
 * the budget cannot hold the bare message overhead of a system and a user turn.
 */
export function fitContext(input: FitContextInput): FittedContext {
  const { history, count } = input;
  const budget = Math.max(0, input.contextWindow - input.replyBudget);
  const fits = (turns: readonly ChatTurn[]) => count(turns) <= budget;
  let system: ChatTurn[] = input.systemPrompt?.trim() ? [{ role: 'system', content: input.systemPrompt }] : [];

  if (history.length === 0) {
    return { messages: system, omitted: 0, promptTokens: count(system), truncated: false };
  }

  const last = history[history.length - 1];
  let newest = last;
  let truncated = false;
  if (!fits([...system, newest])) {
    truncated = true;
    const emptyNewest = { ...last, content: '' };
    if (system.length > 0 && !fits([...system, emptyNewest])) {
      const cut = keepStart(system[0].content, (text) => fits([{ role: 'system', content: text }, emptyNewest]));
      system = [{ role: 'system', content: cut }];
      newest = emptyNewest;
    } else {
      newest = { ...last, content: keepEnd(last.content, (text) => fits([...system, { ...last, content: text }])) };
    }
  }

  // The largest number of older turns that still fits; `lo` always fits (zero older turns, checked above).
  const older = history.length - 1;
  const withOlder = (k: number) => [...system, ...history.slice(older - k, older), newest];
  let lo = 0;
  let hi = truncated ? 0 : older;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(withOlder(mid))) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const messages = withOlder(lo);
  return { messages, omitted: older - lo, promptTokens: count(messages), truncated };
}

/** The longest suffix of `text` that is `ok` (assumed: a shorter suffix is never worse); '' if none is. */
function keepEnd(text: string, ok: (text: string) => boolean): string {
  let bad = 0; // text.slice(bad) is known not to fit
  let good = text.length;
  if (!ok('')) {
    return '';
  }
  while (good - bad > 1) {
    const mid = (bad + good) >>> 1;
    if (ok(text.slice(mid))) {
      good = mid;
    } else {
      bad = mid;
    }
  }
  return tidyCut(text, good, 1, ok, (at) => text.slice(at));
}

/** The longest prefix of `text` that is `ok`; '' if none is. */
function keepStart(text: string, ok: (text: string) => boolean): string {
  let good = 0;
  let bad = text.length;
  if (!ok('')) {
    return '';
  }
  while (bad - good > 1) {
    const mid = (bad + good) >>> 1;
    if (ok(text.slice(0, mid))) {
      good = mid;
    } else {
      bad = mid;
    }
  }
  return tidyCut(text, good, -1, ok, (at) => text.slice(0, at));
}

/**
 * Moves a cut off the middle of a surrogate pair and, when a word boundary is near, onto it — dropping a little more
 * text, which is kept only if it still fits.
 */
function tidyCut(
  text: string,
  at: number,
  direction: 1 | -1,
  ok: (text: string) => boolean,
  piece: (at: number) => string,
): string {
  let cut = at;
  const boundary = direction === 1 ? cut : cut - 1;
  const code = text.charCodeAt(boundary);
  if (direction === 1 && code >= 0xdc00 && code <= 0xdfff) {
    cut += 1;
  }
  if (direction === -1 && code >= 0xd800 && code <= 0xdbff) {
    cut -= 1;
  }
  for (let step = 0; step < 24; step++) {
    const i = direction === 1 ? cut + step : cut - step;
    if (i <= 0 || i >= text.length) {
      break;
    }
    if (/\s/.test(text[direction === 1 ? i - 1 : i])) {
      const candidate = piece(i);
      if (ok(candidate)) {
        return candidate;
      }
      break;
    }
  }
  const candidate = piece(cut);
  return ok(candidate) ? candidate : piece(at);
}
