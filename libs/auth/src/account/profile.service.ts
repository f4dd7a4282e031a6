import { APP_CONFIG, type AppConfig, AppError, DAY_MS, utcDayKey } from '@app/common';
import { SessionRepository, UsageRepository, type UserEntity, UserRepository } from '@app/persistence';
import { Inject, Injectable } from '@nestjs/common';
import { LastAdminRule } from '../admin/last-admin.rule';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth-user';
import type { ClientInfo } from '../decorators/client.decorator';
import type { ChangePasswordDto, DeleteAccountDto } from '../dto/credentials.dto';
import type { UpdateProfileDto } from '../dto/profile.dto';
import { USAGE_HISTORY_DAYS, type UsageHistoryView } from '../dto/account-activity.dto';
import type { ProfileView } from '../dto/responses.dto';
import { AccountEvents } from '../events/account-events';
import { PasswordHasher } from '../password/password-hasher';
import { AbuseLimits } from '../rate-limit/abuse-limits';
import { toUserView, type UserView } from '../user/user.view';

/** What signed-in users do with their own account. */
@Injectable()
export class ProfileService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly usage: UsageRepository,
    private readonly hasher: PasswordHasher,
    private readonly limits: AbuseLimits,
    private readonly events: AccountEvents,
    private readonly audit: AuditTrail,
    private readonly lastAdmin: LastAdminRule,
  ) {}

  async get(auth: AuthUser): Promise<ProfileView> {
    const user = await this.userOf(auth);
    const [today, total] = await Promise.all([this.usage.forDay(user.id, new Date()), this.usage.total(user.id)]);
    return { ...toUserView(user), usage: { today, total } };
  }

  /** The caller's account as any response may show it (`unauthorized` once it is gone). */
  async user(auth: AuthUser): Promise<UserView> {
    return toUserView(await this.userOf(auth));
  }

  /** Today, in total, the daily limit and what is left of it, and each of the last 30 UTC days (zeros filled in). */
  async usageHistory(auth: AuthUser): Promise<UsageHistoryView> {
    const user = await this.userOf(auth);
    const now = new Date();
    const from = new Date(now.getTime() - (USAGE_HISTORY_DAYS - 1) * DAY_MS);
    const [today, total, daily] = await Promise.all([
      this.usage.forDay(user.id, now),
      this.usage.total(user.id),
      this.usage.daily(user.id, from, now),
    ]);
    const byDay = new Map(daily.map((d) => [d.day, d.usage]));
    const days = Array.from({ length: USAGE_HISTORY_DAYS }, (_, i) => {
      const date = utcDayKey(from.getTime() + i * DAY_MS);
      const usage = byDay.get(date);
      return { date, promptTokens: usage?.promptTokens ?? 0, completionTokens: usage?.completionTokens ?? 0 };
    });
    const limit = this.config.userDailyTokenLimit > 0 ? this.config.userDailyTokenLimit : null;
    const spent = today.promptTokens + today.completionTokens;
    return {
      today,
      total,
      dailyLimit: limit,
      remainingToday: limit === null ? null : Math.max(0, limit - spent),
      days,
    };
  }

  async update(auth: AuthUser, dto: UpdateProfileDto): Promise<UserView> {
    const user =
      dto.name === undefined ? await this.userOf(auth) : await this.users.update(auth.userId, { name: dto.name });
    if (!user) {
      throw sessionGone();
    }
    return toUserView(user);
  }

  /** Sets a new password and ends every other session of the user; the current one stays signed in. */
  async changePassword(auth: AuthUser, client: ClientInfo, dto: ChangePasswordDto): Promise<void> {
    const user = await this.userOf(auth);
    await this.confirmPassword(auth, user, client, dto.currentPassword, 'currentPassword');
    await this.users.update(user.id, { passwordHash: await this.hasher.hash(dto.newPassword) });
    const revoked = await this.sessions.revokeAllForUser(user.id, new Date(), auth.sessionId);
    if (revoked.length > 0) {
      await this.events.publish({ type: 'revoked', userId: user.id, sessionIds: revoked });
    }
    await this.audit.record({
      actorId: user.id,
      action: 'auth.password_changed',
      targetId: user.id,
      client,
      meta: { revokedSessions: revoked.length },
    });
  }

  /**
   * Deletes the account with everything it owns. The last enabled admin cannot leave while other users remain
   * (they would be left with nobody to administer the instance); the only account of the instance can.
   */
  async delete(auth: AuthUser, client: ClientInfo, dto: DeleteAccountDto): Promise<void> {
    const user = await this.userOf(auth);
    await this.confirmPassword(auth, user, client, dto.password, 'password');
    await this.lastAdmin.exclusive(async () => {
      const current = await this.userOf(auth);
      await this.lastAdmin.assertAllowed(current, 'deleted', { soleUserMayLeave: true });
      await this.users.delete(current.id);
    });
    await this.events.publish({ type: 'revoked', userId: user.id, sessionIds: 'all' });
    await this.audit.record({
      actorId: user.id,
      action: 'user.self_deleted',
      targetId: user.id,
      client,
      meta: { email: user.email },
    });
  }

  /**
   * Password confirmation is limited per session (a stolen access token cannot guess on), apart from sign-in
   * failures: guesses against the email from elsewhere never keep the owner's own session from confirming.
   */
  private async confirmPassword(
    auth: AuthUser,
    user: UserEntity,
    client: ClientInfo,
    password: string,
    field: string,
  ): Promise<void> {
    const attempt = await this.limits.passwordConfirmation(auth);
    if (!(await this.hasher.verify(password, user.passwordHash))) {
      await this.audit.record({ actorId: user.id, action: 'auth.password_check_failed', targetId: user.id, client });
      throw AppError.validation([{ field, message: `${field} is incorrect` }]);
    }
    await attempt.succeeded();
  }

  private async userOf(auth: AuthUser): Promise<UserEntity> {
    const user = await this.users.findById(auth.userId);
    if (!user) {
      throw sessionGone();
    }
    return user;
  }
}

function sessionGone(): AppError {
  return new AppError('unauthorized', 'Session expired or revoked');
}
