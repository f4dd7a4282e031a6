import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiForbiddenResponse } from '@nestjs/swagger';

export const ADMIN_ONLY = 'confab:admin-only';

/**
 * Restricts a route (or every route of a controller) to admins. The global `AuthGuard` is the one place that reads
 * it, and answers 403 `forbidden` to everyone else. The OpenAPI document marks such operations `x-admin-only`.
 */
export const AdminOnly = () =>
  applyDecorators(
    SetMetadata(ADMIN_ONLY, true),
    ApiExtension('x-admin-only', true),
    ApiForbiddenResponse({ description: 'The caller is not an admin' }),
  );
