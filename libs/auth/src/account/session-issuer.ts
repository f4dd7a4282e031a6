import { APP_CONFIG, type AppConfig } from '@app/common';
import { SessionRepository, type UserEntity } from '@app/persistence';
import { Inject, Injectable } from '@nestjs/common';
import type { ClientInfo } from '../decorators/client.decorator';
import type { AuthTokensView } from '../dto/responses.dto';
import { AccessTokens } from '../token/access-token.service';
import { hashRefreshToken, newRefreshToken } from '../token/refresh-token';
import { toUserView } from '../user/user.view';

/** Starts a session (a refresh-token family) for a user who just proved who they are, and hands out its first pair. */
@Injectable()
export class SessionIssuer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessions: SessionRepository,
    private readonly accessTokens: AccessTokens,
  ) {}

  async start(user: UserEntity, client: ClientInfo): Promise<AuthTokensView> {
    const refreshToken = newRefreshToken();
    const session = await this.sessions.create({
      userId: user.id,
      tokenHash: hashRefreshToken(refreshToken),
      expiresAt: this.refreshExpiry(new Date()),
      userAgent: client.userAgent,
      ip: client.ip,
    });
    return this.pair(user, session.id, refreshToken);
  }

  async pair(user: UserEntity, sessionId: string, refreshToken: string): Promise<AuthTokensView> {
    return { user: toUserView(user), accessToken: await this.accessTokens.sign(user.id, sessionId), refreshToken };
  }

  refreshExpiry(now: Date): Date {
    return new Date(now.getTime() + this.config.refreshTokenTtlMs);
  }
}
