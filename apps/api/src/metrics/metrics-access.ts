import type { AppConfig } from '@app/common';
import { timingSafeEqual } from 'node:crypto';

/** Who may read `/metrics` on one listener: anyone, holders of METRICS_TOKEN, or nobody (404). */
export type MetricsExposure = 'public' | 'token' | 'off';

/**
 * Never public by accident: with METRICS_PORT the public port serves no metrics at all; in production without
 * METRICS_TOKEN only that separate port does (or nothing). Outside production an open `/metrics` is convenient.
 */
export function metricsExposure(config: AppConfig, listener: 'app' | 'metrics'): MetricsExposure {
  if (listener === 'metrics') {
    return config.metricsToken ? 'token' : 'public';
  }
  if (config.metricsPort !== null) {
    return 'off';
  }
  if (config.metricsToken) {
    return 'token';
  }
  return config.nodeEnv === 'production' ? 'off' : 'public';
}

/** True when the Authorization header carries exactly `Bearer <token>` (compared in constant time). */
export function hasMetricsToken(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match) {
    return false;
  }
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export type MetricsVerdict = { ok: true } | { ok: false; status: 401 | 404 };

export function checkMetricsAccess(
  exposure: MetricsExposure,
  token: string | null,
  authorization: string | undefined,
): MetricsVerdict {
  switch (exposure) {
    case 'off':
      return { ok: false, status: 404 };
    case 'token':
      return token && hasMetricsToken(authorization, token) ? { ok: true } : { ok: false, status: 401 };
    case 'public':
      return { ok: true };
  }
}
