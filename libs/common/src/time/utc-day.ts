export const DAY_MS = 86_400_000;

/** The UTC day containing `at`, as [start, end) in epoch milliseconds: the unit of daily quotas and usage. */
export function utcDayBounds(at: Date): [number, number] {
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return [start, start + DAY_MS];
}

/** The UTC day containing `at` as `YYYY-MM-DD`. */
export function utcDayKey(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 10);
}
