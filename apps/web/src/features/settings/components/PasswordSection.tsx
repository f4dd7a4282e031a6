import { type FormEvent, useId, useState } from 'react';
import { ApiError, errorMessage } from '../../../lib/api-error';
import { useChangePassword } from '../api/account';
import { Section } from './Section';

/** Current and new password; the server signs out every other session, and the page says how many. */
export function PasswordSection({ otherSessions }: { otherSessions: number | null }) {
  const id = useId();
  const change = useChangePassword();
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const currentPassword = String(data.get('currentPassword') ?? '');
    const newPassword = String(data.get('newPassword') ?? '');
    setDone(null);
    setError(null);
    if (newPassword !== String(data.get('confirmPassword') ?? '')) {
      setError('The new passwords do not match.');
      return;
    }
    const others = otherSessions;
    change.mutate(
      { currentPassword, newPassword },
      {
        onSuccess: () => {
          form.reset();
          setDone(
            others === 0
              ? 'Password changed. No other session was signed in.'
              : `Password changed. ${others === null ? 'Your other sessions were' : others === 1 ? '1 other session was' : `${others} other sessions were`} signed out; this one stays signed in.`,
          );
        },
        onError: (err) => {
          const field = err instanceof ApiError ? err.details.find((d) => d.field === 'currentPassword') : undefined;
          setError(field ? 'The current password is not right.' : errorMessage(err));
        },
      },
    );
  }

  return (
    <Section title="Password" description="Changing it signs you out on every other device.">
      <form onSubmit={onSubmit} className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-current`}>Current password</label>
          <input id={`${id}-current`} name="currentPassword" type="password" autoComplete="current-password" required />
        </div>
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-new`}>New password</label>
            <input
              id={`${id}-new`}
              name="newPassword"
              type="password"
              autoComplete="new-password"
              minLength={8}
              maxLength={128}
              required
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-confirm`}>Repeat new password</label>
            <input
              id={`${id}-confirm`}
              name="confirmPassword"
              type="password"
              autoComplete="new-password"
              minLength={8}
              maxLength={128}
              required
            />
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="button primary" disabled={change.isPending}>
            {change.isPending ? 'Changing…' : 'Change password'}
          </button>
        </div>
        <div role="status" className="notice-slot">
          {done && <p className="notice success">{done}</p>}
        </div>
        {error && (
          <p className="alert" role="alert">
            {error}
          </p>
        )}
      </form>
    </Section>
  );
}
