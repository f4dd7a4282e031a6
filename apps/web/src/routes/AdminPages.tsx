import { useEffect } from 'react';
import { useOutletContext } from 'react-router';
import type { ShellContext } from '../app/AppShell';
import { AdminLayout } from '../features/admin/components/AdminLayout';
import { AuditLogView } from '../features/admin/components/AuditLogView';
import { StatsDashboard } from '../features/admin/components/StatsDashboard';
import { UsersView } from '../features/admin/components/UsersView';
import { useSession } from '../lib/use-session';
import { NotFoundPage } from './NotFoundPage';

/** Admins only: anyone else sees the same "not found" as for any unknown page (the API answers 403 as well). */
function AdminOnly({ title, children }: { title: string; children: (userId: string) => React.ReactNode }) {
  const user = useSession()?.user;
  const { menuButton } = useOutletContext<ShellContext>();
  const admin = user?.role === 'admin';
  useEffect(() => {
    document.title = admin ? `${title} · Admin · confab` : 'Not found · confab';
  }, [admin, title]);
  if (!user || !admin) {
    return <NotFoundPage />;
  }
  return <AdminLayout header={menuButton}>{children(user.id)}</AdminLayout>;
}

export function AdminUsersPage() {
  return (
    <AdminOnly title="Users">
      {(userId) => (
        <>
          <StatsDashboard />
          <UsersView currentUserId={userId} />
        </>
      )}
    </AdminOnly>
  );
}

export function AdminAuditPage() {
  return <AdminOnly title="Audit log">{() => <AuditLogView />}</AdminOnly>;
}
