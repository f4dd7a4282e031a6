/** What a redacted value is replaced with in the log. */
export const REDACTED = '[redacted]';

/** Query parameters that carry credentials when a client puts them in a URL (lower-cased, `_` and `-` removed). */
const SECRET_PARAMS = new Set(['token', 'accesstoken', 'refreshtoken', 'apikey', 'key', 'password', 'secret']);

const isSecretParam = (name: string) => SECRET_PARAMS.has(name.toLowerCase().replace(/[-_]/g, ''));

/**
 * Log paths whose values never reach a log line: credentials in headers, and credentials in any object logged
 * with a body-like shape (one level down: `{ body: { refreshToken } }`).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
  '*.token',
];

/** The URL with the value of every credential-like query parameter (`?token=`, `?api_key=` ...) replaced. */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) {
    return url;
  }
  const query = url
    .slice(start + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq < 0 ? pair : pair.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the raw name
      }
      return eq >= 0 && isSecretParam(name) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
  return `${url.slice(0, start)}?${query}`;
}

/** A parsed query with credential-like parameters replaced (values of any shape). */
export function redactQuery(query: unknown): unknown {
  if (typeof query !== 'object' || query === null) {
    return query;
  }
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(query)) {
    copy[name] = isSecretParam(name) ? REDACTED : value;
  }
  return copy;
}

/** pino-http's `req` serializer on top of the standard one: URL and query without credentials. */
export function redactedRequest<T extends { url?: unknown; query?: unknown }>(req: T): T {
  if (typeof req.url === 'string') {
    req.url = redactUrl(req.url);
  }
  if (req.query !== undefined) {
    req.query = redactQuery(req.query);
  }
  return req;
}
