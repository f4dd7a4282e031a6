import { ApiError, errorMessage } from '../../lib/api-error';

export type AdminAction = 'demote' | 'disable' | 'delete';

const VERB: Record<AdminAction, string> = { demote: 'make a user', disable: 'disable', delete: 'delete' };

/** The last-admin rule (409) in words that say what to do, not a generic error. */
export function adminErrorMessage(err: unknown, action: AdminAction, target: { email: string }, self: boolean): string {
  if (err instanceof ApiError && err.code === 'conflict') {
    const who = self ? 'You are' : `${target.email} is`;
    const whom = self ? 'yourself' : 'them';
    const verb = action === 'demote' ? `make ${whom} a user` : `${VERB[action]} ${whom}`;
    return `${who} the last admin of this instance, so you cannot ${verb}: there must always be an admin. Make another user an admin first.`;
  }
  return errorMessage(err);
}
