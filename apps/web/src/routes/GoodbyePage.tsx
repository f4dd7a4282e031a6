import { useEffect, useRef } from 'react';
import { Link, useLocation } from 'react-router';
import { queryClient } from '../lib/query-client';
import { session } from '../lib/session';

/** Where a deleted account ends. */
export function GoodbyePage() {
  const heading = useRef<HTMLHeadingElement>(null);
  const deleted = (useLocation().state as { deleted?: boolean } | null)?.deleted === true;
  useEffect(() => {
    if (deleted) {
      // The account is gone: nothing of it stays in this browser (other tabs follow through storage events).
      queryClient.clear();
      session.end(null);
    }
  }, [deleted]);
  useEffect(() => {
    document.title = 'Goodbye · confab';
    heading.current?.focus();
  }, []);
  return (
    <main className="auth-page">
      <div className="auth-card goodbye">
        <div className="brand" aria-hidden="true">
          <img src="/favicon.svg" alt="" width="36" height="36" />
        </div>
        <h1 ref={heading} tabIndex={-1}>
          Your account has been deleted
        </h1>
        <p>Every chat, message, session and API key of it is gone. Thank you for using confab.</p>
        <p className="auth-switch">
          <Link to="/signup">Create a new account</Link>
        </p>
      </div>
    </main>
  );
}
