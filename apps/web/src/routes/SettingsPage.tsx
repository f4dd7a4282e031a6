import { useEffect } from 'react';
import { useNavigate, useOutletContext } from 'react-router';
import type { ShellContext } from '../app/AppShell';
import { signOut } from '../features/auth/api/auth';
import { SettingsView } from '../features/settings/components/SettingsView';

export function SettingsPage() {
  const { menuButton } = useOutletContext<ShellContext>();
  const navigate = useNavigate();
  useEffect(() => {
    document.title = 'Settings · confab';
  }, []);
  return (
    <SettingsView
      header={menuButton}
      onSignOutHere={() => void signOut()}
      // The goodbye screen ends the session once it shows: ending it here would send this page to the sign-in page.
      onDeleted={() => void navigate('/goodbye', { replace: true, state: { deleted: true } })}
    />
  );
}
