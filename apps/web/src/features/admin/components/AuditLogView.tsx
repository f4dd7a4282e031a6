import { type FormEvent, useState } from 'react';
import { errorMessage } from '../../../lib/api-error';
import { formatDateTime } from '../../../lib/format';
import { useCursorPager } from '../../../lib/use-cursor-pager';
import { type AuditEntry, type AuditFilter, useAuditLog } from '../api/admin';
import { Pager } from './Pager';

const ACTIONS: Record<string, string> = {
  'auth.signup': 'Signed up',
  'auth.login_failed': 'Sign-in failed',
  'auth.login_disabled': 'Sign-in refused (disabled)',
  'auth.refresh_reused': 'Refresh token reused',
  'auth.password_changed': 'Password changed',
  'auth.password_check_failed': 'Password check failed',
  'auth.api_key_created': 'API key created',
  'auth.api_key_revoked': 'API key revoked',
  'auth.session_revoked': 'Session signed out',
  'auth.sessions_revoked': 'Other sessions signed out',
  'user.self_deleted': 'Deleted own account',
  'admin.user_updated': 'User changed',
  'admin.user_deleted': 'User deleted',
};

function who(id: string | null, email: string | null, fallback: string): string {
  if (email) {
    return email;
  }
  return id ? `deleted user ${id.slice(-6)}` : fallback;
}

/** A short reading of an entry's details: what changed, for whom, why. */
function details(entry: AuditEntry): string {
  const meta = entry.meta;
  const parts: string[] = [];
  const changes = meta.changes as Record<string, { from: unknown; to: unknown }> | undefined;
  if (changes) {
    for (const [field, c] of Object.entries(changes)) {
      parts.push(`${field}: ${String(c.from)} → ${String(c.to)}`);
    }
  }
  for (const [key, value] of Object.entries(meta)) {
    if (key !== 'changes' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
      parts.push(`${key}: ${String(value)}`);
    }
  }
  return parts.join(' · ');
}

/** The audit log, newest first, paged, filtered by who acted or whom it was about. */
export function AuditLogView() {
  const [filter, setFilter] = useState<AuditFilter>({ actor: '', target: '' });
  const pager = useCursorPager();
  const log = useAuditLog(filter, pager.cursor);
  const items = log.data?.items ?? [];

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const user = String(data.get('user') ?? '').trim();
    const role = String(data.get('role'));
    setFilter(role === 'target' ? { actor: '', target: user } : { actor: user, target: '' });
    pager.reset();
  }

  return (
    <section aria-labelledby="audit-heading" className="admin-section">
      <div className="section-bar">
        <h2 id="audit-heading">Audit log</h2>
      </div>
      <form className="filter-form" onSubmit={onSubmit} aria-label="Filter the audit log">
        <div className="field grow">
          <label htmlFor="audit-user">User (email or id)</label>
          <input id="audit-user" name="user" type="search" autoComplete="off" placeholder="anyone" />
        </div>
        <div className="field">
          <label htmlFor="audit-role">As</label>
          <select id="audit-role" name="role" defaultValue="actor">
            <option value="actor">Actor (who did it)</option>
            <option value="target">Target (whom it was about)</option>
          </select>
        </div>
        <button type="submit" className="button">
          Filter
        </button>
      </form>
      {log.isError && (
        <p className="alert" role="alert">
          {errorMessage(log.error)}
        </p>
      )}
      <div className="table-wrap" role="region" aria-labelledby="audit-heading" tabIndex={0}>
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id}>
                <td className="nowrap">
                  <time dateTime={e.createdAt}>{formatDateTime(e.createdAt)}</time>
                </td>
                <td>
                  <span className={`action ${e.action.split('.')[0]}`}>{ACTIONS[e.action] ?? e.action}</span>
                </td>
                <td className="ellipsis" title={e.actorEmail ?? undefined}>
                  {who(e.actorId, e.actorEmail, 'anonymous')}
                </td>
                <td className="ellipsis" title={e.targetEmail ?? undefined}>
                  {who(e.targetId, e.targetEmail, '—')}
                </td>
                <td className="details">{details(e)}</td>
                <td className="nowrap muted">{e.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {log.data && items.length === 0 && (
        <p className="muted">{filter.actor || filter.target ? 'Nothing matches this filter.' : 'The log is empty.'}</p>
      )}
      <Pager
        label="Audit log pages"
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        nextCursor={log.data?.nextCursor ?? null}
        onPrevious={pager.previous}
        onNext={pager.next}
      />
    </section>
  );
}
