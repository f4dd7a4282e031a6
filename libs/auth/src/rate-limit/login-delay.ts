/** The first slowed-down attempt waits this long; each further failure doubles it, up to LOGIN_MAX_DELAY. */
export const FIRST_LOGIN_DELAY_MS = 1000;

/**
 * How long a sign-in attempt on an account waits before its password is checked, given the failures the account
 * has had in the current window: nothing for the first `freeFailures`, then 1 s, 2 s, 4 s ... capped at `maxMs`.
 * A cap rather than a block: whoever guesses against an account only slows it down, its owner still gets in.
 */
export function loginDelayMs(failures: number, freeFailures: number, maxMs: number): number {
  const excess = failures - freeFailures;
  if (excess < 0 || maxMs <= 0) {
    return 0;
  }
  // 2 ** 30 s is far past any cap: stop doubling before the number gets silly.
  return Math.min(FIRST_LOGIN_DELAY_MS * 2 ** Math.min(excess, 30), maxMs);
}
