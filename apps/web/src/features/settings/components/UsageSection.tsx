import { errorMessage } from '../../../lib/api-error';
import { formatNumber, tokensOf } from '../../../lib/format';
import { useUsageHistory } from '../api/account';
import { Section } from './Section';
import { UsageChart } from './UsageChart';

/** Tokens today and in total, the daily quota with what is left of it, and the last 30 days. */
export function UsageSection() {
  const usage = useUsageHistory();
  const data = usage.data;
  return (
    <Section title="Usage" description="Prompt and answer tokens, counted per UTC day.">
      {usage.isError && (
        <p className="alert" role="alert">
          {errorMessage(usage.error)}
        </p>
      )}
      {!data && !usage.isError && <p className="muted">Loading…</p>}
      {data && (
        <>
          <dl className="figures">
            <div>
              <dt>Today</dt>
              <dd>{formatNumber(tokensOf(data.today))}</dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd>{formatNumber(tokensOf(data.total))}</dd>
            </div>
            <div>
              <dt>Daily quota</dt>
              <dd>{data.dailyLimit === null ? 'None' : formatNumber(data.dailyLimit)}</dd>
            </div>
            <div>
              <dt>Left today</dt>
              <dd>{data.remainingToday === null ? 'Unlimited' : formatNumber(data.remainingToday)}</dd>
            </div>
          </dl>
          {data.dailyLimit !== null && (
            <div className="quota">
              <label htmlFor="quota-meter" className="visually-hidden">
                Daily quota used
              </label>
              <meter
                id="quota-meter"
                min={0}
                max={data.dailyLimit}
                low={data.dailyLimit * 0.75}
                high={data.dailyLimit * 0.9}
                optimum={0}
                value={Math.min(tokensOf(data.today), data.dailyLimit)}
              />
              <span className="muted">
                {Math.min(100, Math.round((tokensOf(data.today) / data.dailyLimit) * 100))}% of today’s quota used
              </span>
            </div>
          )}
          <UsageChart days={data.days} dailyLimit={data.dailyLimit} />
        </>
      )}
    </Section>
  );
}
