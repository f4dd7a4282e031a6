import { useEffect, useState } from 'react';
import { errorMessage } from '../../../lib/api-error';
import { useCursorPager } from '../../../lib/use-cursor-pager';
import { useDebouncedValue } from '../../../lib/use-debounced-value';
import {
  type AdminUser,
  type UserChange,
  useAdminUsers,
  useBulkUpdate,
  useDeleteUser,
  useUpdateUser,
} from '../api/admin';
import { type AdminAction, adminErrorMessage } from '../admin-errors';
import { DeleteUserDialog } from './DeleteUserDialog';
import { Pager } from './Pager';
import { UserRow } from './UserRow';

const actionOf = (change: UserChange): AdminAction => ('role' in change ? 'demote' : 'disable');

/** The users table: search, paging, per-row actions, bulk disable and enable. */
export function UsersView({ currentUserId }: { currentUserId: string }) {
  const [query, setQuery] = useState('');
  const q = useDebouncedValue(query.trim(), 250);
  const pager = useCursorPager();
  const users = useAdminUsers(q, pager.cursor);
  const update = useUpdateUser();
  const remove = useDeleteUser();
  const bulk = useBulkUpdate();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [deleting, setDeleting] = useState<AdminUser | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const { reset } = pager;

  useEffect(() => {
    reset();
    setSelected(new Set());
  }, [q, reset]);

  const items = users.data?.items ?? [];
  const chosen = items.filter((u) => selected.has(u.id));
  const busy = update.isPending || remove.isPending || bulk.isPending;

  function change(user: AdminUser, next: UserChange) {
    setNotice(null);
    setProblem(null);
    update.mutate(
      { id: user.id, change: next },
      {
        onSuccess: (updated) =>
          setNotice(
            'role' in next
              ? `${updated.email} is now ${updated.role === 'admin' ? 'an admin' : 'a user'}.`
              : `${updated.email} is ${updated.disabled ? 'disabled and signed out everywhere' : 'enabled'}.`,
          ),
        onError: (err) => setProblem(adminErrorMessage(err, actionOf(next), user, user.id === currentUserId)),
      },
    );
  }

  function bulkChange(disabled: boolean) {
    setNotice(null);
    setProblem(null);
    bulk.mutate(
      { users: chosen, change: { disabled } },
      {
        onSuccess: ({ done, failures }) => {
          setSelected(new Set());
          setNotice(`${done} ${done === 1 ? 'user' : 'users'} ${disabled ? 'disabled' : 'enabled'}.`);
          if (failures.length > 0) {
            setProblem(
              failures.map((f) => adminErrorMessage(f.error, 'disable', f.user, f.user.id === currentUserId)).join(' '),
            );
          }
        },
      },
    );
  }

  return (
    <section aria-labelledby="users-heading" className="admin-section">
      <div className="section-bar">
        <h2 id="users-heading">Users</h2>
        <div className="search">
          <label htmlFor="user-search" className="visually-hidden">
            Search users by email or name
          </label>
          <input
            id="user-search"
            type="search"
            placeholder="Search by email or name"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            autoComplete="off"
          />
        </div>
      </div>
      <div className="bulk-bar" aria-label="Selected users">
        <span className="muted small" role="status">
          {chosen.length > 0 ? `${chosen.length} selected` : 'Select users for bulk actions'}
        </span>
        <button
          type="button"
          className="button small"
          disabled={chosen.length === 0 || busy}
          onClick={() => bulkChange(true)}
        >
          Disable selected
        </button>
        <button
          type="button"
          className="button small"
          disabled={chosen.length === 0 || busy}
          onClick={() => bulkChange(false)}
        >
          Enable selected
        </button>
      </div>
      <div role="status" className="notice-slot">
        {notice && <p className="notice success">{notice}</p>}
      </div>
      {(problem || users.isError) && (
        <p className="alert" role="alert">
          {problem ?? errorMessage(users.error)}
        </p>
      )}
      <div className="table-wrap" role="region" aria-labelledby="users-heading" tabIndex={0}>
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col" className="select-cell">
                <input
                  type="checkbox"
                  aria-label="Select every user on this page"
                  checked={items.length > 0 && chosen.length === items.length}
                  onChange={(e) => setSelected(e.target.checked ? new Set(items.map((u) => u.id)) : new Set())}
                />
              </th>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col" className="num">
                Threads
              </th>
              <th scope="col" className="num">
                Tokens <span className="muted">today / total</span>
              </th>
              <th scope="col">
                Last active <span className="muted">joined</span>
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((u) => (
              <UserRow
                key={u.id}
                user={u}
                self={u.id === currentUserId}
                selected={selected.has(u.id)}
                busy={busy}
                onSelect={(on) =>
                  setSelected((s) => {
                    const next = new Set(s);
                    if (on) {
                      next.add(u.id);
                    } else {
                      next.delete(u.id);
                    }
                    return next;
                  })
                }
                onChange={(next) => change(u, next)}
                onDelete={() => setDeleting(u)}
              />
            ))}
          </tbody>
        </table>
      </div>
      {users.data && items.length === 0 && <p className="muted">{q ? 'No user matches.' : 'No users.'}</p>}
      <Pager
        label="Users pages"
        page={pager.page}
        hasPrevious={pager.hasPrevious}
        nextCursor={users.data?.nextCursor ?? null}
        onPrevious={pager.previous}
        onNext={pager.next}
      />
      <DeleteUserDialog
        user={deleting}
        busy={remove.isPending}
        onCancel={() => setDeleting(null)}
        onConfirm={(user) => {
          setNotice(null);
          setProblem(null);
          remove.mutate(user.id, {
            onSuccess: () => setNotice(`${user.email} was deleted.`),
            onError: (err) => setProblem(adminErrorMessage(err, 'delete', user, user.id === currentUserId)),
            onSettled: () => setDeleting(null),
          });
        }}
      />
    </section>
  );
}
