import { useSyncExternalStore } from 'react';
import { type Session, session } from './session';

export function useSession(): Session | null {
  return useSyncExternalStore(session.subscribe, session.get);
}
