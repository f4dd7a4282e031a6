import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { AuthUser } from '../auth-user';

const AUTH_USER = Symbol('confab:auth-user');

type AuthenticatedRequest = Request & { [AUTH_USER]?: AuthUser };

export function attachAuthUser(req: Request, user: AuthUser): void {
  (req as AuthenticatedRequest)[AUTH_USER] = user;
}

export function authUserOf(req: Request): AuthUser | undefined {
  return (req as AuthenticatedRequest)[AUTH_USER];
}

/** The authenticated caller (`AuthUser`) that the global guard attached to the request. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthUser => {
  const user = authUserOf(ctx.switchToHttp().getRequest<Request>());
  if (!user) {
    // Only reachable on a @Public() route: a programming error, not a client one.
    throw new Error('@CurrentUser() used on a route without an authenticated caller');
  }
  return user;
});
