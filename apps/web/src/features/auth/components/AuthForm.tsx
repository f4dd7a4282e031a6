import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, errorMessage } from '../../../lib/api-error';
import { session } from '../../../lib/session';
import { signIn, signUp } from '../api/auth';

type Mode = 'signin' | 'signup';

const COPY: Record<
  Mode,
  { title: string; submit: string; busy: string; switchText: string; switchLink: string; to: string }
> = {
  signin: {
    title: 'Sign in to confab',
    submit: 'Sign in',
    busy: 'Signing in…',
    switchText: 'New here?',
    switchLink: 'Create an account',
    to: '/signup',
  },
  signup: {
    title: 'Create your account',
    submit: 'Create account',
    busy: 'Creating account…',
    switchText: 'Already have an account?',
    switchLink: 'Sign in',
    to: '/signin',
  },
};

export function AuthForm({ mode }: { mode: Mode }) {
  const copy = COPY[mode];
  const navigate = useNavigate();
  const id = useId();
  const [error, setError] = useState<string | null>(() => (mode === 'signin' ? session.endedReason() : null));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    heading.current?.focus();
    session.clearEndedReason();
  }, []);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    const password = String(form.get('password') ?? '');
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      if (mode === 'signup') {
        await signUp({ name: String(form.get('name') ?? '').trim(), email, password });
      } else {
        await signIn({ email, password });
      }
      await navigate('/', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.details.length > 0) {
        setFieldErrors(Object.fromEntries(err.details.map((d) => [d.field, d.message])));
      }
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (name: string, label: string, props: React.InputHTMLAttributes<HTMLInputElement>) => (
    <div className="field">
      <label htmlFor={`${id}-${name}`}>{label}</label>
      <input
        id={`${id}-${name}`}
        name={name}
        required
        aria-invalid={fieldErrors[name] ? true : undefined}
        aria-describedby={fieldErrors[name] ? `${id}-${name}-error` : undefined}
        {...props}
      />
      {fieldErrors[name] && (
        <p className="field-error" id={`${id}-${name}-error`}>
          {fieldErrors[name]}
        </p>
      )}
    </div>
  );

  return (
    <main className="auth-page">
      <div className="auth-card">
        <div className="brand" aria-hidden="true">
          <img src="/favicon.svg" alt="" width="36" height="36" />
        </div>
        <h1 ref={heading} tabIndex={-1}>
          {copy.title}
        </h1>
        {error && (
          <div className="alert" role="alert">
            {error}
          </div>
        )}
        <form onSubmit={(e) => void onSubmit(e)} noValidate={false}>
          {mode === 'signup' && field('name', 'Name', { autoComplete: 'name', maxLength: 100 })}
          {field('email', 'Email', { type: 'email', autoComplete: 'email', inputMode: 'email' })}
          {field('password', 'Password', {
            type: 'password',
            autoComplete: mode === 'signup' ? 'new-password' : 'current-password',
            minLength: mode === 'signup' ? 8 : undefined,
            maxLength: 128,
          })}
          {mode === 'signup' && <p className="hint">At least 8 characters.</p>}
          <button type="submit" className="button primary wide" disabled={busy}>
            {busy ? copy.busy : copy.submit}
          </button>
        </form>
        <p className="auth-switch">
          {copy.switchText} <Link to={copy.to}>{copy.switchLink}</Link>
        </p>
      </div>
    </main>
  );
}
