import { useState } from 'react';
import { errorMessage } from '../../../lib/api-error';
import { formatDateTime, formatRelative } from '../../../lib/format';
import { useRevokeOtherSessions, useRevokeSession, useSessions } from '../api/account';
import { describeUserAgent } from '../user-agent';
import { Section } from './Section';

/** The person's signed-in sessions, with "sign out this one" and "sign out everywhere else". */
export function SessionsSection({ onSignOutHere }: { onSignOutHere: () => void }) {
  const sessions = useSessions();
  const revoke = useRevokeSession();
  const revokeOthers = useRevokeOtherSessions();
  const [notice, setNotice] = useState<string | null>(null);
  const items = sessions.data ?? [];
  const others = items.filter((s) => !s.current).length;
  const error = sessions.error ?? revoke.error ?? revokeOthers.error;

  return (
    <Section title="Sessions" description="Where you are signed in. Signing a session out ends it at once.">
      {!sessions.data && !sessions.isError && <p className="muted">Loading…</p>}
      <ul className="session-list">
        {items.map((s) => (
          <li key={s.id} className="session-item">
            <div className="session-text">
              <span className="session-device">
                {describeUserAgent(s.userAgent)}
                {s.current && <span className="badge accent">This device</span>}
              </span>
              <span className="muted small">
                Last used <time dateTime={s.lastUsedAt}>{formatRelative(s.lastUsedAt)}</time> · signed in{' '}
                <time dateTime={s.createdAt}>{formatDateTime(s.createdAt)}</time>
                {s.ip ? ` · ${s.ip}` : ''}
              </span>
            </div>
            <button
              type="button"
              className="button small"
              disabled={revoke.isPending}
              aria-label={
                s.current
                  ? 'Sign out this device'
                  : `Sign out ${describeUserAgent(s.userAgent)}, last used ${formatRelative(s.lastUsedAt)}`
              }
              onClick={() => {
                if (s.current) {
                  onSignOutHere();
                  return;
                }
                setNotice(null);
                revoke.mutate(s.id, { onSuccess: () => setNotice('That session was signed out.') });
              }}
            >
              Sign out
            </button>
          </li>
        ))}
      </ul>
      <div className="form-actions">
        <button
          type="button"
          className="button"
          disabled={others === 0 || revokeOthers.isPending}
          onClick={() => {
            setNotice(null);
            revokeOthers.mutate(undefined, {
              onSuccess: ({ revoked }) =>
                setNotice(
                  revoked === 1 ? '1 other session was signed out.' : `${revoked} other sessions were signed out.`,
                ),
            });
          }}
        >
          Sign out everywhere else
        </button>
        <span role="status" className="form-status">
          {notice ?? ''}
        </span>
      </div>
      {error && (
        <p className="alert" role="alert">
          {errorMessage(error)}
        </p>
      )}
    </Section>
  );
}
