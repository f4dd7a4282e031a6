const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `15m`, `30d`, `2h`, `45s`, `500ms` or a bare number of seconds into milliseconds. */
export function parseDuration(value: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) {
    return null;
  }
  const amount = Number(match[1]);
  const ms = amount * UNITS[match[2] ?? 's'];
  return amount > 0 && Number.isSafeInteger(ms) ? ms : null;
}

export interface RateLimit {
  limit: number;
  windowMs: number;
}

/** Parses `10/h`, `10/15m`, `100/1d` into a count per window. */
export function parseRate(value: string): RateLimit | null {
  const match = /^(\d+)\/(\d*)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) {
    return null;
  }
  const limit = Number(match[1]);
  const windowMs = parseDuration(`${match[2] || '1'}${match[3]}`);
  return limit > 0 && windowMs ? { limit, windowMs } : null;
}
