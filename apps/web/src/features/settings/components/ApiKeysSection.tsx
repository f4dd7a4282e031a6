import { type FormEvent, useId, useState } from 'react';
import { ConfirmDialog } from '../../../components/ConfirmDialog';
import { CopyButton } from '../../../components/CopyButton';
import { errorMessage } from '../../../lib/api-error';
import { formatDate, formatRelative } from '../../../lib/format';
import { type ApiKey, type CreatedApiKey, useApiKeys, useCreateApiKey, useRevokeApiKey } from '../api/api-keys';
import { Section } from './Section';

const EXPIRY_DAYS: Record<string, number | null> = { never: null, '30': 30, '90': 90, '365': 365 };

/** Personal API keys: create with a name and an optional expiry, see the key once, list, revoke. */
export function ApiKeysSection() {
  const id = useId();
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const days = EXPIRY_DAYS[String(data.get('expiry'))] ?? null;
    setCreated(null);
    create.mutate(
      {
        name: String(data.get('name') ?? '').trim(),
        ...(days === null ? {} : { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() }),
      },
      {
        onSuccess: (key) => {
          form.reset();
          setCreated(key);
        },
      },
    );
  }

  const items = keys.data ?? [];
  return (
    <Section
      title="API keys"
      description={
        <>
          For scripts and tools: the OpenAI-compatible <code>/v1</code> API and the thread routes. A key acts as you.
        </>
      }
    >
      <form onSubmit={onSubmit} className="key-form">
        <div className="field grow">
          <label htmlFor={`${id}-name`}>Key name</label>
          <input id={`${id}-name`} name="name" required maxLength={100} placeholder="e.g. CI pipeline" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-expiry`}>Expires</label>
          <select id={`${id}-expiry`} name="expiry" defaultValue="never">
            <option value="never">Never</option>
            <option value="30">In 30 days</option>
            <option value="90">In 90 days</option>
            <option value="365">In a year</option>
          </select>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {created && (
        <div className="new-key" role="status">
          <p>
            <strong>{created.name}</strong>: copy this key now. It will not be shown again.
          </p>
          <div className="key-value">
            <code>{created.key}</code>
            <CopyButton text={created.key} label="Copy key" />
          </div>
        </div>
      )}
      {(create.error ?? revoke.error ?? keys.error) && (
        <p className="alert" role="alert">
          {errorMessage(create.error ?? revoke.error ?? keys.error)}
        </p>
      )}
      {keys.data && items.length === 0 && <p className="muted">No keys yet.</p>}
      {items.length > 0 && (
        <ul className="session-list" aria-label="Your API keys">
          {items.map((k) => (
            <li key={k.id} className="session-item">
              <div className="session-text">
                <span className="session-device">
                  {k.name} <code className="prefix">{k.prefix}…</code>
                </span>
                <span className="muted small">
                  Created {formatDate(k.createdAt)} ·{' '}
                  {k.lastUsedAt ? `last used ${formatRelative(k.lastUsedAt)}` : 'never used'}
                  {' · '}
                  {k.expiresAt ? `expires ${formatDate(k.expiresAt)}` : 'never expires'}
                </span>
              </div>
              <button
                type="button"
                className="button small"
                aria-label={`Revoke ${k.name}`}
                onClick={() => setRevoking(k)}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        body={<p>Anything using “{revoking?.name}” stops working at once.</p>}
        confirmLabel="Revoke key"
        onCancel={() => setRevoking(null)}
        onConfirm={() => {
          if (revoking) {
            revoke.mutate(revoking.id);
          }
          setRevoking(null);
        }}
      />
    </Section>
  );
}
