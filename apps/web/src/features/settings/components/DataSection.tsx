import { type FormEvent, useId, useState } from 'react';
import { ApiError, errorMessage } from '../../../lib/api-error';
import { deleteAccount, downloadExport } from '../api/account';
import { Section } from './Section';

export function ExportSection() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Section title="Export your data" description="Your profile and every chat with every branch, as one JSON file.">
      <div className="form-actions">
        <button
          type="button"
          className="button"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(null);
            downloadExport()
              .catch((err: unknown) => setError(errorMessage(err)))
              .finally(() => setBusy(false));
          }}
        >
          {busy ? 'Preparing…' : 'Download export'}
        </button>
      </div>
      {error && (
        <p className="alert" role="alert">
          {error}
        </p>
      )}
    </Section>
  );
}

/** Deleting the account takes the password; `onDeleted` ends the session and shows the goodbye screen. */
export function DeleteAccountSection({ onDeleted }: { onDeleted: () => void }) {
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget).get('password') ?? '');
    setBusy(true);
    setError(null);
    deleteAccount(password)
      .then(onDeleted)
      .catch((err: unknown) => {
        setBusy(false);
        if (err instanceof ApiError && err.details.some((d) => d.field === 'password')) {
          setError('That password is not right. Nothing was deleted.');
        } else if (err instanceof ApiError && err.code === 'conflict') {
          setError('You are the last admin of this instance: make someone else an admin before you leave.');
        } else {
          setError(errorMessage(err));
        }
      });
  }

  return (
    <Section
      title="Delete account"
      tone="danger"
      description="Deletes your account with every chat, message, session and API key. This cannot be undone."
    >
      <form onSubmit={onSubmit} className="key-form">
        <div className="field grow">
          <label htmlFor={`${id}-password`}>Your password</label>
          <input id={`${id}-password`} name="password" type="password" autoComplete="current-password" required />
        </div>
        <button type="submit" className="button danger" disabled={busy}>
          {busy ? 'Deleting…' : 'Delete my account'}
        </button>
      </form>
      {error && (
        <p className="alert" role="alert">
          {error}
        </p>
      )}
    </Section>
  );
}
