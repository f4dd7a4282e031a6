import { AppError, isId } from '@app/common';
import { type SessionEntity, SessionRepository } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth-user';
import type { ClientInfo } from '../decorators/client.decorator';
import type { RevokedSessionsView, SessionListView, SessionView } from '../dto/account-activity.dto';
import { AccountEvents } from '../events/account-events';

/** A person's own signed-in sessions: list them, sign one out, or sign out all but this one. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly events: AccountEvents,
    private readonly audit: AuditTrail,
  ) {}

  async list(auth: AuthUser): Promise<SessionListView> {
    const live = await this.sessions.listActiveForUser(auth.userId, new Date());
    live.sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime() || (a.id < b.id ? 1 : -1));
    return { items: live.map((s) => toSessionView(s, auth.sessionId)) };
  }

  /** Ends one of the caller's sessions (the current one too: that is signing out). Foreign ids are not found. */
  async revoke(auth: AuthUser, client: ClientInfo, id: string): Promise<void> {
    const session = isId(id) ? await this.sessions.findById(id) : null;
    const now = new Date();
    if (!session || session.userId !== auth.userId || session.revokedAt !== null || session.expiresAt <= now) {
      throw AppError.notFound('Session');
    }
    await this.sessions.revoke(session.id, now);
    await this.events.publish({ type: 'revoked', userId: auth.userId, sessionIds: [session.id] });
    await this.audit.record({
      actorId: auth.userId,
      action: 'auth.session_revoked',
      targetId: auth.userId,
      client,
      meta: { sessionId: session.id, current: session.id === auth.sessionId },
    });
  }

  /** Signs out every session of the caller but the current one. */
  async revokeOthers(auth: AuthUser, client: ClientInfo): Promise<RevokedSessionsView> {
    const revoked = await this.sessions.revokeAllForUser(auth.userId, new Date(), auth.sessionId);
    if (revoked.length > 0) {
      await this.events.publish({ type: 'revoked', userId: auth.userId, sessionIds: revoked });
      await this.audit.record({
        actorId: auth.userId,
        action: 'auth.sessions_revoked',
        targetId: auth.userId,
        client,
        meta: { revokedSessions: revoked.length },
      });
    }
    return { revoked: revoked.length };
  }
}

function toSessionView(session: SessionEntity, currentId: string): SessionView {
  return {
    id: session.id,
    userAgent: session.userAgent,
    ip: session.ip,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    current: session.id === currentId,
  };
}
