import { useEffect } from 'react';
import { useOutletContext } from 'react-router';
import type { ShellContext } from '../app/AppShell';
import { NewChatView } from '../features/chat/components/NewChatView';

export function NewChatPage() {
  const { menuButton } = useOutletContext<ShellContext>();
  useEffect(() => {
    document.title = 'New chat · confab';
  }, []);
  return <NewChatView header={menuButton} />;
}
