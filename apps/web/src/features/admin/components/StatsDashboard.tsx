import { formatCompact, formatNumber, tokensOf } from '../../../lib/format';
import { useStats } from '../api/admin';

/** Users, threads, messages and tokens (total and last 24 h) as a row of figures. */
export function StatsDashboard() {
  const stats = useStats();
  const s = stats.data;
  if (!s) {
    return stats.isError ? null : <p className="muted">Loading figures…</p>;
  }
  const cards: { label: string; value: string; sub: string }[] = [
    { label: 'Users', value: formatNumber(s.users), sub: 'accounts' },
    { label: 'Threads', value: formatNumber(s.threads), sub: `${formatNumber(s.last24h.threads)} in 24 h` },
    { label: 'Messages', value: formatNumber(s.messages), sub: `${formatNumber(s.last24h.messages)} in 24 h` },
    { label: 'Tokens', value: formatCompact(tokensOf(s.tokens.total)), sub: 'in total' },
    { label: 'Tokens, 24 h', value: formatCompact(tokensOf(s.tokens.last24h)), sub: 'last 24 hours' },
  ];
  return (
    <section aria-label="Statistics">
      <dl className="stat-grid">
        {cards.map((c) => (
          <div key={c.label} className="stat">
            <dt>{c.label}</dt>
            <dd>
              <span className="stat-value">{c.value}</span>
              <span className="muted small">{c.sub}</span>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
