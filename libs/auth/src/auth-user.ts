import type { Role } from '@app/persistence';

/** The authenticated caller, as every guarded handler and socket sees it. */
export interface AuthUser {
  userId: string;
  role: Role;
  sessionId: string;
}
