import type { Role } from '@app/persistence';

/** The authenticated caller, as every guarded handler and socket sees it. */
export interface AuthUser {
  userId: string;
  role: Role;
  /**
   * What revocation events name to end this caller's access: the session (refresh-token family) of an access
   * token, or `apikey:<id>` for a personal API key.
   */
  sessionId: string;
  /** Set when the caller authenticated with a personal API key. */
  apiKeyId?: string;
}
