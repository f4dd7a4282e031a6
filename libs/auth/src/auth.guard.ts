import { AppError } from '@app/common';
import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCEPTS_API_KEY } from './decorators/accepts-api-key.decorator';
import { ADMIN_ONLY } from './decorators/admin-only.decorator';
import { attachAuthUser } from './decorators/current-user.decorator';
import { PUBLIC_ROUTE } from './decorators/public.decorator';
import { TokenVerifier } from './token/token-verifier';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * The global HTTP guard (APP_GUARD): every route needs a live access token unless marked `@Public()`; a personal
 * API key is accepted only where `@AcceptsApiKey()` says so; routes marked `@AdminOnly()` need an admin. This is
 * the one place where these rules are enforced.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') {
      // Socket.IO authenticates once per connection, in the gateway's handshake middleware.
      return true;
    }
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(PUBLIC_ROUTE, targets)) {
      return true;
    }
    const req = context.switchToHttp().getRequest<Request>();
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (!match) {
      throw new AppError('unauthorized', 'Authentication required');
    }
    const user = await this.verifier.authenticate(match[1]);
    if (user.apiKeyId && !this.reflector.getAllAndOverride<boolean | undefined>(ACCEPTS_API_KEY, targets)) {
      throw new AppError('forbidden', 'API keys cannot be used on this route: sign in for a session access token');
    }
    attachAuthUser(req, user);
    if (this.reflector.getAllAndOverride<boolean | undefined>(ADMIN_ONLY, targets) && user.role !== 'admin') {
      throw new AppError('forbidden', 'Admins only');
    }
    return true;
  }
}
