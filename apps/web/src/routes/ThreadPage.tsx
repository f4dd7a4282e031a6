import { useOutletContext, useParams } from 'react-router';
import type { ShellContext } from '../app/AppShell';
import { ChatView } from '../features/chat/components/ChatView';

export function ThreadPage() {
  const { threadId = '' } = useParams();
  const { menuButton } = useOutletContext<ShellContext>();
  // A key per thread: a new thread starts with fresh local state (edit boxes, notices).
  return <ChatView key={threadId} threadId={threadId} header={menuButton} />;
}
