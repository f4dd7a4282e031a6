import { AppError } from '@app/common';
import { type ApiKeyEntity, ApiKeyRepository } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth-user';
import type { ClientInfo } from '../decorators/client.decorator';
import type { ApiKeyListView, ApiKeyView, CreateApiKeyDto, CreatedApiKeyView } from '../dto/api-key.dto';
import { AccountEvents } from '../events/account-events';
import { apiKeySessionId, newApiKey } from './api-key-secret';

export const MAX_API_KEYS_PER_USER = 20;

/** A user's personal API keys: create (the secret is shown once), list, revoke (at once, on every instance). */
@Injectable()
export class ApiKeyService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly events: AccountEvents,
    private readonly audit: AuditTrail,
  ) {}

  async create(auth: AuthUser, client: ClientInfo, dto: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    const expiresAt = dto.expiresAt === undefined ? null : new Date(dto.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw AppError.validation([{ field: 'expiresAt', message: 'expiresAt must be in the future' }]);
    }
    const { key, prefix, secretHash } = newApiKey();
    const stored = await this.keys.create(
      { userId: auth.userId, name: dto.name, prefix, secretHash, expiresAt },
      MAX_API_KEYS_PER_USER,
    );
    if (!stored) {
      throw new AppError('conflict', `At most ${MAX_API_KEYS_PER_USER} API keys per user: revoke one first`);
    }
    await this.audit.record({
      actorId: auth.userId,
      action: 'auth.api_key_created',
      targetId: auth.userId,
      client,
      meta: { keyId: stored.id, name: stored.name },
    });
    return { ...toApiKeyView(stored), key };
  }

  async list(auth: AuthUser): Promise<ApiKeyListView> {
    return { items: (await this.keys.listForUser(auth.userId)).map(toApiKeyView), nextCursor: null };
  }

  async revoke(auth: AuthUser, client: ClientInfo, keyId: string): Promise<void> {
    if (!(await this.keys.delete(auth.userId, keyId))) {
      throw AppError.notFound('API key');
    }
    // Caches on every instance drop the key, and sockets it opened are disconnected.
    await this.events.publish({ type: 'revoked', userId: auth.userId, sessionIds: [apiKeySessionId(keyId)] });
    await this.audit.record({
      actorId: auth.userId,
      action: 'auth.api_key_revoked',
      targetId: auth.userId,
      client,
      meta: { keyId },
    });
  }
}

/** Picks the listed fields one by one: the digest never leaves the repository, the secret never this service. */
export function toApiKeyView(key: ApiKeyEntity): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}
