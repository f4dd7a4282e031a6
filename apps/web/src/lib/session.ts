import type { User } from './types';

/** Who is signed in. Kept in localStorage so that every tab shares one session and a reload stays signed in. */
export interface Session {
  user: User;
  accessToken: string;
  refreshToken: string;
}

const KEY = 'confab.session';
const listeners = new Set<() => void>();
let current: Session | null = readStored();
/** Why the last session ended, shown once on the sign-in page ("Your session has ended..."). */
let endedReason: string | null = null;

function readStored(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function notify(): void {
  listeners.forEach((fn) => fn());
}

export const session = {
  get: (): Session | null => current,
  /** What another tab may have written since this one last looked (used under the refresh lock). */
  reload: (): Session | null => {
    current = readStored();
    return current;
  },
  set(next: Session): void {
    current = next;
    endedReason = null;
    localStorage.setItem(KEY, JSON.stringify(next));
    notify();
  },
  updateUser(user: User): void {
    if (current) {
      session.set({ ...current, user });
    }
  },
  /** Signs this browser out; `reason` is shown on the sign-in page. */
  end(reason: string | null = null): void {
    current = null;
    endedReason = reason;
    localStorage.removeItem(KEY);
    notify();
  },
  endedReason: (): string | null => endedReason,
  clearEndedReason(): void {
    endedReason = null;
  },
  subscribe(fn: () => void): () => void {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
};

// Another tab signed in, refreshed or signed out: follow it.
window.addEventListener('storage', (event) => {
  if (event.key !== KEY && event.key !== null) {
    return;
  }
  const before = current;
  current = readStored();
  if (before && !current) {
    endedReason = 'You signed out in another tab.';
  }
  notify();
});

/** Seconds since the epoch at which a JWT expires, or null when it cannot be read. */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = token.split('.')[1];
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}
