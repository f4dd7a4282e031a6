import type { StoredConfig } from '../config/config-store';
import { CliError, EXIT } from '../errors';

export const DEFAULT_SERVER = 'http://localhost:3000';

export type Credentials =
  | { kind: 'key'; apiKey: string }
  | { kind: 'session'; refreshToken: string; accessToken: string | null }
  | { kind: 'none' };

/** The server to talk to: `--server`, then `CONFAB_SERVER`, then the file, then the default. */
export function resolveServer(stored: StoredConfig, flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return normalizeServer(flag ?? (env.CONFAB_SERVER || undefined) ?? stored.server ?? DEFAULT_SERVER);
}

export function normalizeServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`not a server URL: ${value} (expected e.g. http://localhost:3000)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`not a server URL: ${value} (http:// or https:// expected)`, EXIT.usage);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/**
 * `CONFAB_API_KEY` first, then what the file holds. Stored session tokens are used only for the server they were
 * issued by: pointing `CONFAB_SERVER` elsewhere must not send them to another host.
 */
export function resolveCredentials(
  stored: StoredConfig,
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): Credentials {
  if (env.CONFAB_API_KEY) {
    return { kind: 'key', apiKey: env.CONFAB_API_KEY };
  }
  if (stored.server !== undefined && normalizeServer(stored.server) !== server) {
    return { kind: 'none' };
  }
  if (stored.apiKey) {
    return { kind: 'key', apiKey: stored.apiKey };
  }
  if (stored.refreshToken) {
    return { kind: 'session', refreshToken: stored.refreshToken, accessToken: stored.accessToken ?? null };
  }
  return { kind: 'none' };
}

/** Whether an access token (a JWT) is still good for a while; its payload is read, not verified (the server does). */
export function isFresh(accessToken: string | null, now = Date.now(), marginMs = 30_000): accessToken is string {
  if (!accessToken) {
    return false;
  }
  try {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof payload.exp === 'number' && payload.exp * 1000 - marginMs > now;
  } catch {
    return false;
  }
}

export function notLoggedIn(server: string): CliError {
  return new CliError(`not logged in to ${server}; run \`confab login\` (or set CONFAB_API_KEY)`, EXIT.auth);
}
