import { AppError } from '@app/common';
import { type Role, type UserEntity, UserRepository } from '@app/persistence';
import { Injectable } from '@nestjs/common';

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
 * Keeps at least one enabled admin. Changes to roles, disabled flags and accounts run one at a time in this
 * process, so two admins demoting each other at once cannot both pass the check.
 */
@Injectable()
export class LastAdminRule {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly users: UserRepository) {}

  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.tail.then(change, change);
    this.tail = run.catch(() => undefined);
    return run;
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
