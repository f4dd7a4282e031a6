import { type FormEvent, useId, useState } from 'react';
import { errorMessage } from '../../../lib/api-error';
import type { User } from '../../../lib/types';
import { useRename } from '../api/account';
import { Section } from './Section';

export function ProfileSection({ user }: { user: User }) {
  const id = useId();
  const rename = useRename();
  const [name, setName] = useState(user.name);
  const [saved, setSaved] = useState(false);

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    rename.mutate(name.trim(), { onSuccess: () => setSaved(true) });
  }

  return (
    <Section title="Profile">
      <form onSubmit={onSubmit} className="inline-form">
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input id={`${id}-email`} value={user.email} readOnly />
        </div>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setSaved(false);
            }}
            required
            maxLength={100}
            autoComplete="name"
          />
        </div>
        <div className="form-actions">
          <button
            type="submit"
            className="button primary"
            disabled={rename.isPending || name.trim() === '' || name.trim() === user.name}
          >
            {rename.isPending ? 'Saving…' : 'Save name'}
          </button>
          <span role="status" className="form-status">
            {saved ? 'Saved.' : ''}
          </span>
        </div>
        {rename.isError && (
          <p className="alert" role="alert">
            {errorMessage(rename.error)}
          </p>
        )}
      </form>
    </Section>
  );
}
