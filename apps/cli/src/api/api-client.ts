import type { ConfigStore } from '../config/config-store';
import { ApiError, CliError, type ErrorBody, EXIT } from '../errors';
import { type Credentials, isFresh, notLoggedIn } from './credentials';
import { readServerSentEvents, type ServerSentEvent } from './sse';

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** false for the routes that take no bearer token (login, refresh, logout). */
  auth?: boolean;
  signal?: AbortSignal;
}

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The one HTTP client of the CLI: JSON in and out, the contract's error shape turned into `ApiError`, the bearer
 * token added, and a password session's access token refreshed (once, then retried) when it expired. Every new
 * refresh token is written to the config file at once: the old one stops working on first use.
 */
export class ApiClient {
  constructor(
    readonly server: string,
    private credentials: Credentials,
    private readonly store: ConfigStore,
  ) {}

  get authKind(): Credentials['kind'] {
    return this.credentials.kind;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, 'application/json', options);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }

  async text(path: string, options: RequestOptions = {}): Promise<string> {
    const res = await this.send('GET', path, '*/*', options);
    return res.text();
  }

  /** A request answered with Server-Sent Events; yields each event until the server ends the stream. */
  async *events(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<ServerSentEvent> {
    const res = await this.send(method, path, 'text/event-stream', { ...options, streaming: true });
    if (!res.body) {
      throw new CliError('the server sent an empty stream');
    }
    try {
      yield* readServerSentEvents(res.body);
    } catch (err) {
      throw options.signal?.aborted ? err : this.networkError(err);
    }
  }

  private async send(
    method: string,
    path: string,
    accept: string,
    options: RequestOptions & { streaming?: boolean },
  ): Promise<Response> {
    const withAuth = options.auth !== false;
    let token = withAuth ? await this.bearer() : null;
    let res = await this.fetchOnce(method, path, accept, token, options);
    if (res.status === 401 && withAuth && this.credentials.kind === 'session') {
      await res.body?.cancel();
      token = await this.refresh(token);
      res = await this.fetchOnce(method, path, accept, token, options);
    }
    if (res.status === 401 && withAuth && this.credentials.kind === 'key') {
      await res.body?.cancel();
      const where = process.env.CONFAB_API_KEY ? 'CONFAB_API_KEY' : 'the stored API key';
      throw new CliError(`the server refused ${where} (revoked or expired?)`, EXIT.auth);
    }
    if (!res.ok) {
      throw await toApiError(res);
    }
    return res;
  }

  private async fetchOnce(
    method: string,
    path: string,
    accept: string,
    token: string | null,
    options: RequestOptions & { streaming?: boolean },
  ): Promise<Response> {
    const url = new URL(`${this.server}/api${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') {
        url.searchParams.set(key, String(value));
      }
    }
    const headers: Record<string, string> = { accept };
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    // A stream may run for minutes: only plain requests get a deadline.
    const signals = [options.signal, options.streaming ? undefined : AbortSignal.timeout(REQUEST_TIMEOUT_MS)];
    const active = signals.filter((s): s is AbortSignal => s !== undefined);
    try {
      return await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: active.length ? AbortSignal.any(active) : undefined,
      });
    } catch (err) {
      if (options.signal?.aborted) {
        throw err;
      }
      throw this.networkError(err);
    }
  }

  private async bearer(): Promise<string> {
    switch (this.credentials.kind) {
      case 'key':
        return this.credentials.apiKey;
      case 'session':
        return isFresh(this.credentials.accessToken) ? this.credentials.accessToken : this.refresh(null);
      case 'none':
        throw notLoggedIn(this.server);
    }
  }

  /** A new token pair for the stored refresh token, under the config lock (another confab may have rotated it). */
  private async refresh(rejected: string | null): Promise<string> {
    return this.store.withLock(async () => {
      const stored = this.store.read();
      if (!stored.refreshToken) {
        throw notLoggedIn(this.server);
      }
      if (stored.accessToken && stored.accessToken !== rejected && isFresh(stored.accessToken)) {
        this.credentials = { kind: 'session', refreshToken: stored.refreshToken, accessToken: stored.accessToken };
        return stored.accessToken;
      }
      let pair: TokenPair;
      try {
        pair = await this.json<TokenPair>('POST', '/auth/refresh', {
          auth: false,
          body: { refreshToken: stored.refreshToken },
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          this.store.write({ server: stored.server, email: stored.email });
          throw new CliError('your session has expired or was revoked; run `confab login` again', EXIT.auth);
        }
        throw err;
      }
      this.store.write({ ...stored, refreshToken: pair.refreshToken, accessToken: pair.accessToken });
      this.credentials = { kind: 'session', ...pair };
      return pair.accessToken;
    });
  }

  private networkError(err: unknown): CliError {
    if (err instanceof CliError) {
      return err;
    }
    const cause = (err as { cause?: { code?: string } }).cause;
    if ((err as Error).name === 'TimeoutError') {
      return new CliError(`the confab server at ${this.server} did not answer in time`);
    }
    const why = cause?.code ?? (err as Error).message;
    return new CliError(`cannot reach the confab server at ${this.server} (${why})`);
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const text = await res.text();
  let body: Partial<ErrorBody> = {};
  try {
    body = JSON.parse(text) as Partial<ErrorBody>;
  } catch {
    // not the contract's shape (a proxy page, say): the status speaks
  }
  const message = typeof body.message === 'string' ? body.message : res.statusText || `HTTP ${res.status}`;
  const code = typeof body.error === 'string' ? body.error : `http_${res.status}`;
  const details = Array.isArray(body.details) ? body.details : [];
  return new ApiError(res.status, code, message, details, res.headers.get('retry-after'));
}
