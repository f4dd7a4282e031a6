import { createSecretKey } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/common';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { AccountService } from './account/account.service';
import { AuthController } from './account/auth.controller';
import { ProfileController } from './account/profile.controller';
import { ProfileService } from './account/profile.service';
import { SessionIssuer } from './account/session-issuer';
import { SessionsController } from './account/sessions.controller';
import { SessionsService } from './account/sessions.service';
import { ApiKeyService } from './api-key/api-key.service';
import { ApiKeyVerifier } from './api-key/api-key-verifier';
import { ApiKeysController } from './api-key/api-keys.controller';
import { AdminController } from './admin/admin.controller';
import { AdminService } from './admin/admin.service';
import { LastAdminRule } from './admin/last-admin.rule';
import { AuditTrail } from './audit/audit-trail';
import { AuthGuard } from './auth.guard';
import { AccountEvents } from './events/account-events';
import { PasswordHasher } from './password/password-hasher';
import { AbuseLimits } from './rate-limit/abuse-limits';
import { RateLimiter } from './rate-limit/rate-limiter';
import { AccessTokens, JWT_ALGORITHM } from './token/access-token.service';
import { TokenVerifier } from './token/token-verifier';

/**
 * Accounts, sessions, personal API keys and the admin API. Installs the global guard: every HTTP route of the app
 * needs a live access token unless it is `@Public()` (or a personal API key where it is `@AcceptsApiKey()`). Exports `TokenVerifier` (the gateway's handshake) and `AccountEvents`.
 */
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, not the string: jsonwebtoken otherwise tries (and fails) to parse a string as a public key
        // on every verify, which made each authenticated request and handshake cost ~0.4 ms of CPU.
        secret: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')),
        signOptions: { algorithm: JWT_ALGORITHM, expiresIn: Math.max(1, Math.round(config.accessTokenTtlMs / 1000)) },
        verifyOptions: { algorithms: [JWT_ALGORITHM] },
      }),
    }),
  ],
  controllers: [AuthController, ProfileController, SessionsController, ApiKeysController, AdminController],
  providers: [
    AccessTokens,
    ApiKeyVerifier,
    ApiKeyService,
    TokenVerifier,
    AccountEvents,
    PasswordHasher,
    RateLimiter,
    AbuseLimits,
    AuditTrail,
    SessionIssuer,
    AccountService,
    ProfileService,
    SessionsService,
    LastAdminRule,
    AdminService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TokenVerifier, AccountEvents, RateLimiter, ProfileService],
})
export class AuthModule {}
