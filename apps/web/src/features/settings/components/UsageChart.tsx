import { formatCompact, formatDate, formatNumber, tokensOf } from '../../../lib/format';
import type { DailyUsage } from '../api/account';

const WIDTH = 600;
const HEIGHT = 140;
const TOP = 10;
const BOTTOM = 20;

/** Tokens per day as bars, in an inline SVG that scales to its box; one summary for screen readers. */
export function UsageChart({ days, dailyLimit }: { days: DailyUsage[]; dailyLimit: number | null }) {
  const totals = days.map(tokensOf);
  const peak = Math.max(...totals, 0);
  const scaleMax = Math.max(peak, dailyLimit ?? 0, 1);
  const plot = HEIGHT - TOP - BOTTOM;
  const slot = WIDTH / Math.max(days.length, 1);
  const barWidth = Math.max(2, slot * 0.68);
  const y = (value: number) => TOP + plot - (value / scaleMax) * plot;
  const peakDay = days[totals.indexOf(peak)];
  const sum = totals.reduce((a, b) => a + b, 0);
  const summary =
    days.length === 0
      ? 'No usage yet'
      : `Tokens per day, ${formatDate(days[0].date)} to ${formatDate(days[days.length - 1].date)}: ${formatNumber(sum)} in all` +
        (peak > 0 ? `, most on ${formatDate(peakDay.date)} (${formatNumber(peak)})` : '');

  return (
    <figure className="usage-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line className="axis" x1={0} x2={WIDTH} y1={TOP + plot} y2={TOP + plot} />
        {dailyLimit !== null && <line className="limit" x1={0} x2={WIDTH} y1={y(dailyLimit)} y2={y(dailyLimit)} />}
        {days.map((d, i) => {
          const value = totals[i];
          const height = Math.max(value > 0 ? 2 : 0, TOP + plot - y(value));
          return (
            <rect
              key={d.date}
              className={i === days.length - 1 ? 'bar today' : 'bar'}
              x={i * slot + (slot - barWidth) / 2}
              y={TOP + plot - height}
              width={barWidth}
              height={height}
              rx={2}
            >
              <title>{`${formatDate(d.date)}: ${formatNumber(value)} tokens`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="chart-legend" aria-hidden="true">
        <span>{days.length > 0 ? formatDate(days[0].date) : ''}</span>
        <span>
          peak {formatCompact(peak)}
          {dailyLimit !== null && <> · dashed line: daily limit {formatCompact(dailyLimit)}</>}
        </span>
        <span>today</span>
      </figcaption>
    </figure>
  );
}
