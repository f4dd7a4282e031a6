import { QueryClientProvider } from '@tanstack/react-query';
import { lazy, Suspense, useEffect } from 'react';
import { BrowserRouter, Navigate, Outlet, Route, Routes, useLocation } from 'react-router';
import { installThreadSync } from '../features/chat/stream/thread-sync';
import { queryClient } from '../lib/query-client';
import { socketClient } from '../lib/socket';
import { useSession } from '../lib/use-session';
import { SignInPage, SignUpPage } from '../routes/AuthPages';
import { GoodbyePage } from '../routes/GoodbyePage';
import { NewChatPage } from '../routes/NewChatPage';
import { NotFoundPage } from '../routes/NotFoundPage';
import { ThreadPage } from '../routes/ThreadPage';
import { AppShell } from './AppShell';

installThreadSync(queryClient);

// Pages most visits never open load on demand, outside the first-load budget.
const SettingsPage = lazy(() => import('../routes/SettingsPage').then((m) => ({ default: m.SettingsPage })));
const AdminUsersPage = lazy(() => import('../routes/AdminPages').then((m) => ({ default: m.AdminUsersPage })));
const AdminAuditPage = lazy(() => import('../routes/AdminPages').then((m) => ({ default: m.AdminAuditPage })));

function PageLoading() {
  return (
    <div className="center-note" role="status">
      <p>Loading…</p>
    </div>
  );
}

const later = (page: React.ReactNode) => <Suspense fallback={<PageLoading />}>{page}</Suspense>;

/** Pages for signed-in people; anyone else goes to the sign-in page and comes back after. */
function RequireSession() {
  const signedIn = useSession() !== null;
  const location = useLocation();
  useEffect(() => {
    if (!signedIn) {
      // The session ended (here or in another tab): nothing of it may stay on screen or in memory.
      socketClient.disconnect();
      queryClient.clear();
    }
  }, [signedIn]);
  if (!signedIn) {
    return <Navigate to="/signin" replace state={{ from: location.pathname }} />;
  }
  return <Outlet />;
}

function GuestOnly() {
  return useSession() ? <Navigate to="/" replace /> : <Outlet />;
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Routes>
          <Route element={<GuestOnly />}>
            <Route path="/signin" element={<SignInPage />} />
            <Route path="/signup" element={<SignUpPage />} />
          </Route>
          <Route path="/goodbye" element={<GoodbyePage />} />
          <Route element={<RequireSession />}>
            <Route element={<AppShell />}>
              <Route index element={<NewChatPage />} />
              <Route path="/t/:threadId" element={<ThreadPage />} />
              <Route path="/settings" element={later(<SettingsPage />)} />
              <Route path="/admin" element={later(<AdminUsersPage />)} />
              <Route path="/admin/audit" element={later(<AdminAuditPage />)} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Route>
        </Routes>
      </BrowserRouter>
    </QueryClientProvider>
  );
}
