import { APP_CONFIG, type AppConfig } from '@app/common';
import { Inject, Injectable } from '@nestjs/common';
import type { ClientInfo } from '../decorators/client.decorator';
import { RateLimiter } from './rate-limiter';

/** How many more failed sign-ins one client address may make than one account may receive. */
export const ADDRESS_FACTOR = 10;

/** A counted password attempt: `succeeded()` takes it back, so that only failures add up. */
export interface PasswordAttempt {
  succeeded(): Promise<void>;
}

/**
 * The abuse limits of the account routes (SIGNUP_RATE_LIMIT, LOGIN_RATE_LIMIT). An attempt is counted before the
 * password is checked and taken back when it was right, so that parallel guesses cannot slip past the limit.
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

  /** Counts a password check for `email` from `client` (sign-in, password change, account deletion). */
  async passwordAttempt(client: ClientInfo, email: string): Promise<PasswordAttempt> {
    const rule = this.config.loginRateLimit;
    const addressKey = `login:ip:${client.ip ?? 'unknown'}`;
    const accountKey = `login:account:${email.trim().toLowerCase()}`;
    const message = 'Too many failed sign-in attempts, try again later';
    await this.limiter.consume(addressKey, { limit: rule.limit * ADDRESS_FACTOR, windowMs: rule.windowMs }, message);
    try {
      await this.limiter.consume(accountKey, rule, message);
    } catch (err) {
      // Refused before any password was checked: it was not a failed attempt from this address.
      await this.limiter.refund(addressKey);
      throw err;
    }
    return {
      succeeded: async () => {
        await Promise.all([this.limiter.refund(addressKey), this.limiter.refund(accountKey)]);
      },
    };
  }
}
