import { AppError, RedisConnections } from '@app/common';
import { type Role, type UserEntity, UserRepository } from '@app/persistence';
import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

const LOCK_KEY = 'lock:admin-changes';
const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 10_000;
/** Deletes the lock only if it is still ours (it may have expired and been taken by another instance). */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** What a change makes of a user: a new role or disabled flag, or nothing at all. */
export type UserStanding = { role: Role; disabled: boolean } | 'deleted';

const isEnabledAdmin = (user: { role: Role; disabled: boolean }) => user.role === 'admin' && !user.disabled;

/**
 * Whether a change to `user` would leave the instance without an enabled admin, given how many there are now.
 * With `soleUserMayLeave`, the only account of the instance may still delete itself (the next sign-up becomes
 * the first admin again).
 */
export function leavesNoAdmin(
  user: Pick<UserEntity, 'role' | 'disabled'>,
  after: UserStanding,
  counts: { enabledAdmins: number; users: number },
  options: { soleUserMayLeave?: boolean } = {},
): boolean {
  if (!isEnabledAdmin(user) || (after !== 'deleted' && isEnabledAdmin(after))) {
    return false;
  }
  if (options.soleUserMayLeave && after === 'deleted' && counts.users <= 1) {
    return false;
  }
  return counts.enabledAdmins <= 1;
}

/**
 * Keeps at least one enabled admin. Changes to roles, disabled flags and accounts run one at a time: in this
 * process through a queue, and across instances (with REDIS_URL) under a Redis lock, so two admins demoting each
 * other at once through different instances cannot both pass the check.
 */
@Injectable()
export class LastAdminRule {
  private readonly logger = new Logger(LastAdminRule.name);
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly users: UserRepository,
    private readonly redis: RedisConnections,
  ) {}

  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const locked = () => this.underClusterLock(change);
    const run = this.tail.then(locked, locked);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async underClusterLock<T>(change: () => Promise<T>): Promise<T> {
    if (!this.redis.enabled) {
      return change();
    }
    const token = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    try {
      while ((await this.redis.client.set(this.redis.key(LOCK_KEY), token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
        if (Date.now() > deadline) {
          throw new AppError('unavailable', 'Another admin change is in progress; try again');
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } catch (err) {
      if (err instanceof AppError) {
        throw err;
      }
      // Redis is down: admin changes must not stop working; this instance's queue still serialises its own.
      this.logger.warn(`Admin-change lock unavailable, continuing with the local queue: ${(err as Error).message}`);
      return change();
    }
    try {
      return await change();
    } finally {
      await this.redis.client.eval(RELEASE, 1, this.redis.key(LOCK_KEY), token).catch(() => undefined);
    }
  }

  /** Throws `conflict` when the change would leave no enabled admin. Call inside `exclusive`. */
  async assertAllowed(
    user: UserEntity,
    after: UserStanding,
    options: { soleUserMayLeave?: boolean } = {},
  ): Promise<void> {
    if (!isEnabledAdmin(user)) {
      return;
    }
    const [enabledAdmins, users] = await Promise.all([
      this.users.countAdmins({ enabledOnly: true }),
      this.users.count(),
    ]);
    if (leavesNoAdmin(user, after, { enabledAdmins, users }, options)) {
      throw new AppError('conflict', 'The last admin cannot be demoted, disabled or deleted');
    }
  }
}
