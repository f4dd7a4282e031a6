import { useCallback, useSyncExternalStore } from 'react';
import { liveReplies, type ThreadLive } from '../stream/live-replies';

export function useThreadLive(threadId: string): ThreadLive {
  const subscribe = useCallback((fn: () => void) => liveReplies.subscribe(threadId, fn), [threadId]);
  return useSyncExternalStore(subscribe, () => liveReplies.get(threadId));
}
