import { formatCompact, formatDate, formatNumber, formatRelative, tokensOf } from '../../../lib/format';
import type { AdminUser, UserChange } from '../api/admin';

interface Props {
  user: AdminUser;
  self: boolean;
  selected: boolean;
  busy: boolean;
  onSelect: (selected: boolean) => void;
  onChange: (change: UserChange) => void;
  onDelete: () => void;
}

export function UserRow({ user, self, selected, busy, onSelect, onChange, onDelete }: Props) {
  const today = tokensOf(user.usageToday);
  const total = tokensOf(user.usage);
  return (
    <tr className={user.disabled ? 'disabled-row' : undefined}>
      <td className="select-cell">
        <input
          type="checkbox"
          checked={selected}
          onChange={(e) => onSelect(e.target.checked)}
          aria-label={`Select ${user.email}`}
        />
      </td>
      <th scope="row" className="user-cell">
        <span className="user-cell-name">
          {user.name || '—'}
          {self && <span className="badge accent">You</span>}
        </span>
        <span className="muted small email" title={user.email}>
          {user.email}
        </span>
      </th>
      <td>
        <span className={`badge${user.role === 'admin' ? ' accent' : ''}`}>{user.role}</span>
      </td>
      <td>
        <span className={`state ${user.disabled ? 'off' : 'on'}`}>{user.disabled ? 'Disabled' : 'Active'}</span>
      </td>
      <td className="num">{formatNumber(user.threadCount)}</td>
      <td className="num tokens">
        <span title={`${formatNumber(today)} tokens today`}>{formatCompact(today)}</span>
        <span className="muted small" title={`${formatNumber(total)} tokens in total`}>
          {formatCompact(total)}
        </span>
      </td>
      <td className="nowrap dates">
        {user.lastActiveAt ? (
          <time dateTime={user.lastActiveAt}>{formatRelative(user.lastActiveAt)}</time>
        ) : (
          <span>Never</span>
        )}
        <span className="muted small">
          joined <time dateTime={user.createdAt}>{formatDate(user.createdAt)}</time>
        </span>
      </td>
      <td className="actions-cell">
        <div className="row-actions">
          <button
            type="button"
            className="button small"
            disabled={busy}
            aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}
            onClick={() => onChange({ disabled: !user.disabled })}
          >
            {user.disabled ? 'Enable' : 'Disable'}
          </button>
          <button
            type="button"
            className="button small"
            disabled={busy}
            aria-label={`${user.role === 'admin' ? 'Make user' : 'Make admin'}: ${user.email}`}
            onClick={() => onChange({ role: user.role === 'admin' ? 'user' : 'admin' })}
          >
            {user.role === 'admin' ? 'Make user' : 'Make admin'}
          </button>
          <button
            type="button"
            className="button small danger-outline"
            disabled={busy}
            aria-label={`Delete ${user.email}`}
            onClick={onDelete}
          >
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}
