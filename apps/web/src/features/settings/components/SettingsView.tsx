import { useEffect, useRef } from 'react';
import { useProfile, useSessions } from '../api/account';
import { ApiKeysSection } from './ApiKeysSection';
import { DeleteAccountSection, ExportSection } from './DataSection';
import { PasswordSection } from './PasswordSection';
import { ProfileSection } from './ProfileSection';
import { SessionsSection } from './SessionsSection';
import { UsageSection } from './UsageSection';

interface Props {
  header: React.ReactNode;
  onSignOutHere: () => void;
  onDeleted: () => void;
}

/** The account settings page: profile, password, usage, sessions, API keys, export and deletion. */
export function SettingsView({ header, onSignOutHere, onDeleted }: Props) {
  const profile = useProfile();
  const sessions = useSessions();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const otherSessions = sessions.data ? sessions.data.filter((s) => !s.current).length : null;

  return (
    <>
      <div className="chat-header">
        {header}
        <h1 className="chat-title" ref={heading} tabIndex={-1}>
          Settings
        </h1>
      </div>
      <div className="page-scroller">
        <div className="page-column">
          {profile.data ? <ProfileSection user={profile.data} /> : <p className="muted">Loading…</p>}
          <PasswordSection otherSessions={otherSessions} />
          <UsageSection />
          <SessionsSection onSignOutHere={onSignOutHere} />
          <ApiKeysSection />
          <ExportSection />
          <DeleteAccountSection onDeleted={onDeleted} />
        </div>
      </div>
    </>
  );
}
