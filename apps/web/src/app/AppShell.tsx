import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Link, Outlet, useLocation, useMatch } from 'react-router';
import { CloseIcon, GearIcon, MenuIcon, ShieldIcon } from '../components/icons';
import { signOut } from '../features/auth/api/auth';
import { useModels } from '../features/chat/api/chat-queries';
import { ThreadSidebar } from '../features/threads/components/ThreadSidebar';
import { socketClient } from '../lib/socket';
import { useSession } from '../lib/use-session';

export interface ShellContext {
  /** The button that opens the thread drawer on a narrow screen, for the page's header. */
  menuButton: React.ReactNode;
}

function ConnectionBanner() {
  const state = useSyncExternalStore(socketClient.subscribeState, socketClient.getState);
  return (
    <div className="connection" role="status">
      {state === 'reconnecting' ? 'Connection lost. Reconnecting…' : ''}
    </div>
  );
}

function DemoBanner() {
  const models = useModels();
  if (!models.data?.demo) {
    return null;
  }
  return (
    <div className="banner" role="note">
      No model provider is configured: answers come from the built-in demo model. Set <code>OPENAI_API_KEY</code> to
      chat with a real model.
    </div>
  );
}

/** The signed-in layout: the thread sidebar (a drawer on phones) and the page. */
export function AppShell() {
  const user = useSession()?.user;
  const match = useMatch('/t/:threadId');
  const location = useLocation();
  const [drawer, setDrawer] = useState(false);
  const menu = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    socketClient.connect();
  }, []);
  useEffect(() => setDrawer(false), [location.pathname]);
  useEffect(() => {
    if (!drawer) {
      return;
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setDrawer(false);
        menu.current?.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    document.querySelector<HTMLElement>('.sidebar a, .sidebar button, .sidebar input')?.focus();
    return () => document.removeEventListener('keydown', onKey);
  }, [drawer]);

  const menuButton = (
    <button
      ref={menu}
      type="button"
      className="icon-button menu-button"
      aria-label="Open chats"
      aria-expanded={drawer}
      aria-controls="sidebar"
      onClick={() => setDrawer(true)}
    >
      <MenuIcon />
    </button>
  );

  return (
    <div className={`shell${drawer ? ' drawer-open' : ''}`}>
      <div id="sidebar" className="sidebar-slot">
        <ThreadSidebar
          activeThreadId={match?.params.threadId ?? null}
          onNavigate={() => setDrawer(false)}
          closeButton={
            <button
              type="button"
              className="icon-button drawer-close"
              aria-label="Close chats"
              onClick={() => {
                setDrawer(false);
                menu.current?.focus();
              }}
            >
              <CloseIcon />
            </button>
          }
          footer={
            <div className="user-menu">
              <span className="avatar" aria-hidden="true">
                {(user?.name || user?.email || '?').slice(0, 1).toUpperCase()}
              </span>
              <span className="user-name" title={user?.email}>
                {user?.name || user?.email}
              </span>
              {user?.role === 'admin' && (
                <Link to="/admin" className="icon-button" aria-label="Admin console" title="Admin console">
                  <ShieldIcon />
                </Link>
              )}
              <Link to="/settings" className="icon-button" aria-label="Settings" title="Settings">
                <GearIcon />
              </Link>
              <button type="button" className="button small" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          }
        />
      </div>
      {drawer && <div className="scrim" aria-hidden="true" onClick={() => setDrawer(false)} />}
      <main className="main" id="main">
        <DemoBanner />
        <ConnectionBanner />
        <Outlet context={{ menuButton } satisfies ShellContext} />
      </main>
    </div>
  );
}
