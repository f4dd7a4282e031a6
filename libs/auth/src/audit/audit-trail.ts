import { AuditRepository } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import type { ClientInfo } from '../decorators/client.decorator';

/** The vocabulary of the audit log. */
export type AuditAction =
  | 'auth.signup'
  | 'auth.login_failed'
  | 'auth.login_disabled'
  | 'auth.refresh_reused'
  | 'auth.password_changed'
  | 'auth.password_check_failed'
  | 'auth.api_key_created'
  | 'auth.api_key_revoked'
  | 'auth.session_revoked'
  | 'auth.sessions_revoked'
  | 'user.self_deleted'
  | 'admin.user_updated'
  | 'admin.user_deleted';

export interface AuditInput {
  actorId: string | null;
  action: AuditAction;
  targetId?: string | null;
  client?: ClientInfo;
  meta?: Record<string, unknown>;
}

/** Writes who did what to whom. Never put a password, a token or a hash in `meta`. */
@Injectable()
export class AuditTrail {
  constructor(private readonly audit: AuditRepository) {}

  async record(input: AuditInput): Promise<void> {
    await this.audit.record({
      actorId: input.actorId,
      action: input.action,
      targetId: input.targetId ?? null,
      ip: input.client?.ip ?? null,
      meta: input.meta ?? {},
    });
  }
}
