import { useEffect, useRef } from 'react';
import { NavLink } from 'react-router';

/** The admin console's header and its two tabs (users, audit log). */
export function AdminLayout({ header, children }: { header: React.ReactNode; children: React.ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <div className="chat-header">
        {header}
        <h1 className="chat-title" ref={heading} tabIndex={-1}>
          Admin
        </h1>
        <nav className="tabs" aria-label="Admin sections">
          <NavLink to="/admin" end className="tab">
            Users
          </NavLink>
          <NavLink to="/admin/audit" className="tab">
            Audit log
          </NavLink>
        </nav>
      </div>
      <div className="page-scroller">
        <div className="page-column wide">{children}</div>
      </div>
    </>
  );
}
