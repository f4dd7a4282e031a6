import type { Message } from '../../../lib/types';

interface Props {
  branch: Message[];
  contextWindow: number | null;
}

const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

/**
 * How much of the model's window the conversation fills: the last reply's prompt plus its answer is what the
 * model will read again next time. Older messages the server left out to fit are said so.
 */
export function ContextGauge({ branch, contextWindow }: Props) {
  const last = [...branch].reverse().find((m) => m.role === 'assistant' && m.usage);
  if (!contextWindow || !last?.usage) {
    return null;
  }
  const used = last.usage.promptTokens + last.usage.completionTokens;
  const share = Math.min(1, used / contextWindow);
  const omitted = branch.reduce((n, m) => Math.max(n, m.contextOmitted ?? 0), 0);
  const label = `Context: ${compact.format(used)} of ${compact.format(contextWindow)} tokens`;
  return (
    <div className="context-gauge" title={`${label}${omitted ? `; ${omitted} older messages left out` : ''}`}>
      <meter
        min={0}
        max={contextWindow}
        low={contextWindow * 0.7}
        high={contextWindow * 0.9}
        value={used}
        aria-label="Context used"
      >
        {Math.round(share * 100)}%
      </meter>
      <span>
        {compact.format(used)} / {compact.format(contextWindow)}
      </span>
      {omitted > 0 && <span className="omitted">{omitted} older left out</span>}
    </div>
  );
}
