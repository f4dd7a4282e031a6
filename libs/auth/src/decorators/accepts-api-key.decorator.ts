import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const ACCEPTS_API_KEY = 'confab:accepts-api-key';

/**
 * Lets a personal API key (`cfk_...`) authenticate on a route (or every route of a controller). Default deny: a
 * route without it answers 403 to a key, so a new route never becomes reachable by key by accident. The account
 * itself (password, deletion, keys, export) and `/api/admin/*` must never carry it. The global `AuthGuard` is the
 * one place that reads it; the OpenAPI document marks such operations `x-api-key`.
 */
export const AcceptsApiKey = () => applyDecorators(SetMetadata(ACCEPTS_API_KEY, true), ApiExtension('x-api-key', true));
