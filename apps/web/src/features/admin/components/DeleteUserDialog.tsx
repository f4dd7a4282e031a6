import { useEffect, useId, useRef, useState } from 'react';
import type { AdminUser } from '../api/admin';

interface Props {
  user: AdminUser | null;
  busy: boolean;
  onConfirm: (user: AdminUser) => void;
  onCancel: () => void;
}

/** Deleting a user takes typing their email: a slip of the mouse cannot delete anyone. */
export function DeleteUserDialog({ user, busy, onConfirm, onCancel }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const [typed, setTyped] = useState('');

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) {
      return;
    }
    if (user && !dialog.open) {
      setTyped('');
      dialog.showModal();
    } else if (!user && dialog.open) {
      dialog.close();
    }
  }, [user]);

  const matches = user !== null && typed.trim().toLowerCase() === user.email.toLowerCase();
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={`${id}-title`}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (user && matches) {
            onConfirm(user);
          }
        }}
      >
        <h2 id={`${id}-title`}>Delete {user?.email}?</h2>
        <div className="dialog-body">
          <p>
            Their account, {user?.threadCount ?? 0} {user?.threadCount === 1 ? 'chat' : 'chats'}, messages, sessions and
            API keys are deleted for good.
          </p>
          <div className="field">
            <label htmlFor={`${id}-email`}>Type their email to confirm</label>
            <input
              id={`${id}-email`}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoComplete="off"
              spellCheck={false}
              autoFocus
            />
          </div>
        </div>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button danger" disabled={!matches || busy}>
            Delete user
          </button>
        </div>
      </form>
    </dialog>
  );
}
