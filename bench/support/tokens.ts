/**
 * The benchmark replies: a user message `bench <tag> <count> <delayMs>` makes the fake upstream answer with `count`
 * distinct fixed-width tokens (` 00000`, ` 00001`, ...) spaced `delayMs` apart. The fixed width lets a client split
 * coalesced deltas back into tokens by their cumulative length; the tag ties the upstream request to its stream.
 */
export const TOKEN_WIDTH = 6;

export function benchTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => ` ${String(i).padStart(TOKEN_WIDTH - 1, '0')}`);
}

export function benchPrompt(tag: string, count: number, delayMs: number): string {
  return `bench ${tag} ${count} ${delayMs}`;
}

export function parseBenchPrompt(text: string): { tag: string; count: number; delayMs: number } | null {
  const m = /^bench (\S+) (\d+) (\d+)$/.exec(text.trim());
  return m ? { tag: m[1], count: Number(m[2]), delayMs: Number(m[3]) } : null;
}

/** One receipt at a client: `len` characters of content that arrived at `t` (process.hrtime.bigint()). */
export interface Arrival {
  len: number;
  t: bigint;
}

/**
 * Per-token delay (ms): for token i, the receipt time of the delta that completed it minus the time the upstream
 * wrote it. Arrivals are taken in arrival order; a token is received once the cumulative length covers it.
 */
export function tokenDelays(sendTimes: readonly bigint[], arrivals: readonly Arrival[]): number[] {
  const delays: number[] = [];
  let cumulative = 0;
  let next = 0;
  for (const a of arrivals) {
    cumulative += a.len;
    while (next < sendTimes.length && (next + 1) * TOKEN_WIDTH <= cumulative) {
      delays.push(Number(a.t - sendTimes[next]) / 1e6);
      next += 1;
    }
  }
  return delays;
}
