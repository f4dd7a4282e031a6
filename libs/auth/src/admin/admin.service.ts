import { AppError, DAY_MS, DEFAULT_PAGE_SIZE, isId } from '@app/common';
import {
  type AuditEntry,
  AuditRepository,
  MessageRepository,
  SessionRepository,
  ThreadRepository,
  UsageRepository,
  type UserEntity,
  UserRepository,
} from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth-user';
import type { ClientInfo } from '../decorators/client.decorator';
import type { AuditQueryDto, ListUsersQueryDto, UpdateUserDto } from '../dto/admin.dto';
import type { AdminUserPageView, AuditEntryView, AuditPageView, StatsView } from '../dto/responses.dto';
import { AccountEvents } from '../events/account-events';
import { toAdminUserView, toUserView, type UserView } from '../user/user.view';
import { LastAdminRule } from './last-admin.rule';

/** The admin API. Who may call it is decided by the guard (`@AdminOnly()`); the caller is passed for the audit log. */
@Injectable()
export class AdminService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
    private readonly usage: UsageRepository,
    private readonly auditEntries: AuditRepository,
    private readonly audit: AuditTrail,
    private readonly events: AccountEvents,
    private readonly lastAdmin: LastAdminRule,
  ) {}

  async listUsers(_actor: AuthUser, query: ListUsersQueryDto): Promise<AdminUserPageView> {
    const page = await this.users.list({ limit: query.limit ?? DEFAULT_PAGE_SIZE, cursor: query.cursor, q: query.q });
    return { items: page.items.map(toAdminUserView), nextCursor: page.nextCursor };
  }

  /** Changes a user's role or disabled flag. Disabling ends every session of the user on every instance at once. */
  async updateUser(actor: AuthUser, client: ClientInfo, id: string, dto: UpdateUserDto): Promise<UserView> {
    const { before, after } = await this.lastAdmin.exclusive(async () => {
      const user = await this.findUser(id);
      const role = dto.role ?? user.role;
      const disabled = dto.disabled ?? user.disabled;
      await this.lastAdmin.assertAllowed(user, { role, disabled });
      const updated = await this.users.update(id, { role, disabled });
      if (!updated) {
        throw AppError.notFound('User');
      }
      return { before: user, after: updated };
    });
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (before.role !== after.role) {
      changes.role = { from: before.role, to: after.role };
    }
    if (before.disabled !== after.disabled) {
      changes.disabled = { from: before.disabled, to: after.disabled };
    }
    if (after.disabled && !before.disabled) {
      await this.sessions.revokeAllForUser(id, new Date());
      await this.events.publish({ type: 'revoked', userId: id, sessionIds: 'all' });
    } else if (changes.role) {
      await this.events.publish({ type: 'changed', userId: id });
    }
    if (Object.keys(changes).length > 0) {
      await this.audit.record({
        actorId: actor.userId,
        action: 'admin.user_updated',
        targetId: id,
        client,
        meta: { email: after.email, changes },
      });
    }
    return toUserView(after);
  }

  /** Deletes the user with their threads, messages, sessions and usage. */
  async deleteUser(actor: AuthUser, client: ClientInfo, id: string): Promise<void> {
    const user = await this.lastAdmin.exclusive(async () => {
      const found = await this.findUser(id);
      await this.lastAdmin.assertAllowed(found, 'deleted');
      if (!(await this.users.delete(id))) {
        throw AppError.notFound('User');
      }
      return found;
    });
    await this.events.publish({ type: 'revoked', userId: id, sessionIds: 'all' });
    await this.audit.record({
      actorId: actor.userId,
      action: 'admin.user_deleted',
      targetId: id,
      client,
      meta: { email: user.email },
    });
  }

  /** The log, newest first, optionally about one actor or target (by id or email), with their current emails. */
  async auditLog(_actor: AuthUser, query: AuditQueryDto): Promise<AuditPageView> {
    const [actorId, targetId] = await Promise.all([
      this.userIdOf('actor', query.actor),
      this.userIdOf('target', query.target),
    ]);
    if (actorId === null || targetId === null) {
      return { items: [], nextCursor: null }; // an email nobody has: nothing was done by or to it
    }
    const page = await this.auditEntries.list({
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
      cursor: query.cursor,
      actorId,
      targetId,
    });
    const ids = new Set(page.items.flatMap((e) => [e.actorId, e.targetId]).filter((id) => id !== null));
    const emails = new Map((await this.users.findByIds([...ids])).map((u) => [u.id, u.email]));
    return { items: page.items.map((e) => toAuditEntryView(e, emails)), nextCursor: page.nextCursor };
  }

  /** A filter value: undefined when absent, the id for an id or a known email, null for an unknown email. */
  private async userIdOf(field: string, value: string | undefined): Promise<string | undefined | null> {
    const trimmed = value?.trim();
    if (!trimmed) {
      return undefined;
    }
    if (trimmed.includes('@')) {
      return (await this.users.findByEmail(trimmed))?.id ?? null;
    }
    if (!isId(trimmed)) {
      throw AppError.validation([{ field, message: `${field} must be a user id or an email` }]);
    }
    return trimmed;
  }

  async stats(_actor: AuthUser): Promise<StatsView> {
    const since = new Date(Date.now() - DAY_MS);
    const [users, threads, messages, threadsRecent, messagesRecent, total, last24h] = await Promise.all([
      this.users.count(),
      this.threads.count(),
      this.messages.count(),
      this.threads.count(since),
      this.messages.count(since),
      this.usage.totalAll(),
      this.usage.totalAll(since),
    ]);
    return {
      users,
      threads,
      messages,
      tokens: { total, last24h },
      last24h: { threads: threadsRecent, messages: messagesRecent },
    };
  }

  private async findUser(id: string): Promise<UserEntity> {
    const user = isId(id) ? await this.users.findById(id) : null;
    if (!user) {
      throw AppError.notFound('User');
    }
    return user;
  }
}

function toAuditEntryView(entry: AuditEntry, emails: Map<string, string>): AuditEntryView {
  return {
    id: entry.id,
    actorId: entry.actorId,
    actorEmail: entry.actorId === null ? null : (emails.get(entry.actorId) ?? null),
    action: entry.action,
    targetId: entry.targetId,
    targetEmail: entry.targetId === null ? null : (emails.get(entry.targetId) ?? null),
    ip: entry.ip,
    meta: entry.meta,
    createdAt: entry.createdAt.toISOString(),
  };
}
