/**
 * How long a generation holds its thread (and counts as alive) without renewing: a crashed instance frees the thread
 * and its reply is repaired this long after its last renewal. Short, because a restarted instance cannot tell a dead
 * holder from a live one on another instance, and the thread answers 409 until then.
 */
export const LEASE_MS = 10_000;
/** A running generation renews its thread lease and touches its reply this often. */
export const LEASE_RENEW_MS = 2_500;
/** Every instance looks for replies whose generation stopped renewing this often. */
export const SWEEP_INTERVAL_MS = 2_000;
/** A follower of a reply generated elsewhere re-reads it this often, so that a lost end event cannot hang it. */
export const FOLLOWER_RECHECK_MS = 2_000;

/** The end published for a reply whose generation died with its instance. */
export const INTERRUPTED = {
  code: 'unavailable',
  message: 'The reply was interrupted: the server generating it stopped',
} as const;
