const numbers = new Intl.NumberFormat();
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dates = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const times = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatNumber = (n: number): string => numbers.format(n);
export const formatCompact = (n: number): string => compact.format(n);
export const formatDate = (iso: string): string => dates.format(new Date(iso));
export const formatDateTime = (iso: string): string => times.format(new Date(iso));

/** "3 minutes ago", "yesterday": for times people compare with now. */
export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['second', 60],
    ['minute', 60],
    ['hour', 24],
    ['day', 30],
    ['month', 12],
  ];
  let value = seconds;
  for (const [unit, size] of steps) {
    if (Math.abs(value) < size) {
      return unit === 'second' && Math.abs(value) < 45 ? 'just now' : rtf.format(value, unit);
    }
    value = Math.round(value / size);
  }
  return rtf.format(value, 'year');
}

export const tokensOf = (u: { promptTokens: number; completionTokens: number }): number =>
  u.promptTokens + u.completionTokens;
