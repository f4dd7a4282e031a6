import { APP_CONFIG, type AppConfig } from '@app/common';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth-user';
import type { ClientInfo } from '../decorators/client.decorator';
import { loginDelayMs } from './login-delay';
import { RateLimiter } from './rate-limiter';

/** How many more failed sign-ins one client address may make than one account may receive. */
export const ADDRESS_FACTOR = 10;

/** A counted password attempt: `succeeded()` takes it back, so that only failures add up. */
export interface PasswordAttempt {
  succeeded(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The abuse limits of the account routes (SIGNUP_RATE_LIMIT, LOGIN_RATE_LIMIT, LOGIN_MAX_DELAY). Attempts are
 * counted before the password is checked and taken back when it was right, so that parallel guesses cannot slip
 * past a limit. No limit lets a stranger lock an account's owner out:
 * - per client address: ten times LOGIN_RATE_LIMIT failures, then 429 (password spraying);
 * - per account and address: LOGIN_RATE_LIMIT failures, then 429 for that address only;
 * - per account from anywhere: past LOGIN_RATE_LIMIT failures each attempt waits (1 s, doubling, at most
 *   LOGIN_MAX_DELAY) before its password is checked: guessing gets slow, the owner still gets in;
 * - a signed-in session confirming its password (password change, account deletion): LOGIN_RATE_LIMIT failures
 *   per session, apart from sign-ins, so guesses against the email never block the owner's own session.
 * Every counter lives in Redis when REDIS_URL is set, so the limits hold across instances.
 */
@Injectable()
export class AbuseLimits {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: RateLimiter,
  ) {}

  async signUp(client: ClientInfo): Promise<void> {
    await this.limiter.consume(
      `signup:ip:${client.ip ?? 'unknown'}`,
      this.config.signupRateLimit,
      'Too many sign-ups from this address, try again later',
    );
  }

  /** Counts a sign-in attempt on `email` from `client`; resolves once the account's slowdown (if any) has passed. */
  async signInAttempt(client: ClientInfo, email: string): Promise<PasswordAttempt> {
    const rule = this.config.loginRateLimit;
    const address = client.ip ?? 'unknown';
    const account = email.trim().toLowerCase();
    const addressKey = `login:ip:${address}`;
    const pairKey = `login:pair:${address}:${account}`;
    const accountKey = `login:account:${account}`;
    await this.limiter.consume(
      addressKey,
      { limit: rule.limit * ADDRESS_FACTOR, windowMs: rule.windowMs },
      'Too many failed sign-in attempts from this address, try again later',
    );
    try {
      await this.limiter.consume(pairKey, rule, 'Too many failed sign-in attempts, try again later');
    } catch (err) {
      // Refused before any password was checked: it was not a failed attempt from this address.
      await this.limiter.refund(addressKey);
      throw err;
    }
    const { count } = await this.limiter.hit(accountKey, rule.windowMs);
    const delay = loginDelayMs(count - 1, rule.limit, this.config.loginMaxDelayMs);
    if (delay > 0) {
      await sleep(delay);
    }
    return {
      succeeded: async () => {
        await Promise.all([addressKey, pairKey, accountKey].map((key) => this.limiter.refund(key)));
      },
    };
  }

  /** Counts a signed-in session's password confirmation, on that session's own counter. */
  async passwordConfirmation(auth: AuthUser): Promise<PasswordAttempt> {
    const key = `confirm:session:${auth.sessionId}`;
    await this.limiter.consume(
      key,
      this.config.loginRateLimit,
      'Too many wrong passwords in this session, try again later',
    );
    return { succeeded: () => this.limiter.refund(key) };
  }
}
