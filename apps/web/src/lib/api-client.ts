import { ApiError } from './api-error';
import { type Session, session, tokenExpiry } from './session';
import type { AuthResult } from './types';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface RequestOptions {
  method?: Method;
  body?: unknown;
  signal?: AbortSignal;
  /** false for sign-up, sign-in and the other routes that take no access token. */
  auth?: boolean;
}

const SESSION_ENDED = 'Your session has ended. Please sign in again.';
const DISABLED = 'This account has been disabled.';

async function toApiError(res: Response): Promise<ApiError> {
  let body: { error?: string; message?: string; details?: { field: string; message: string }[] } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not the contract's JSON (a proxy's error page): fall back to the status text
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return new ApiError(
    res.status,
    body.error ?? 'http_error',
    body.message ?? (res.statusText || `Request failed (${res.status})`),
    body.details ?? [],
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  );
}

async function send(path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
  }
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  try {
    return await fetch(`/api${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') {
      throw err;
    }
    throw ApiError.network();
  }
}

/**
 * Every request of the app goes through here: it adds the access token, refreshes it once on a 401 and retries,
 * and turns the contract's error shape into an ApiError.
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const auth = options.auth ?? true;
  const token = auth ? (session.get()?.accessToken ?? null) : null;
  let res = await send(path, options, token);
  if (res.status === 401 && auth && token) {
    const renewed = await refreshSession(token);
    if (!renewed) {
      throw new ApiError(401, 'unauthorized', SESSION_ENDED);
    }
    res = await send(path, options, renewed.accessToken);
  }
  if (!res.ok) {
    const error = await toApiError(res);
    if (res.status === 401 && auth) {
      session.end(SESSION_ENDED);
    }
    throw error;
  }
  if (res.status === 204) {
    return undefined as T;
  }
  return (await res.json()) as T;
}

let inFlight: Promise<Session | null> | null = null;

/**
 * Trades the refresh token for a new pair. Refresh tokens rotate and a reused one revokes the whole session, so
 * two tabs must never present the same one: the exchange runs under a Web Lock shared by every tab of the origin,
 * and a tab that waited on the lock first looks whether another tab already refreshed (`stale` is the access token
 * it found wanting). Resolves null when the session is over (it is then ended with a message).
 */
export function refreshSession(stale: string | null): Promise<Session | null> {
  inFlight ??= withRefreshLock(async () => {
    const latest = session.reload();
    if (!latest) {
      return null;
    }
    if (stale !== null && latest.accessToken !== stale) {
      return latest; // another tab refreshed meanwhile
    }
    let res: Response;
    try {
      res = await send('/auth/refresh', { method: 'POST', body: { refreshToken: latest.refreshToken } }, null);
    } catch (err) {
      if (err instanceof ApiError) {
        return latest; // offline: keep the session, the next request tries again
      }
      throw err;
    }
    if (!res.ok) {
      if (res.status === 401 || res.status === 403) {
        const error = await toApiError(res);
        session.end(error.code === 'account_disabled' ? DISABLED : SESSION_ENDED);
        return null;
      }
      return latest;
    }
    const pair = (await res.json()) as Partial<AuthResult> & { accessToken: string; refreshToken: string };
    const next: Session = {
      user: pair.user ?? latest.user,
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
    };
    session.set(next);
    return next;
  }).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  // Every browser the app supports has Web Locks; a very old one still works, only without cross-tab safety.
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('confab:refresh', fn) as Promise<T>;
  }
  return fn();
}

let timer: ReturnType<typeof setTimeout> | null = null;

/** Refreshes a minute before the access token expires, so that requests and reconnects never meet an expired one. */
function scheduleRefresh(): void {
  if (timer) {
    clearTimeout(timer);
    timer = null;
  }
  const current = session.get();
  const exp = current ? tokenExpiry(current.accessToken) : null;
  if (!current || exp === null) {
    return;
  }
  const lifetime = exp * 1000 - Date.now();
  const delay = Math.max(1000, Math.min(lifetime - 60_000, lifetime * 0.8));
  timer = setTimeout(() => void refreshSession(current.accessToken), delay);
}

session.subscribe(scheduleRefresh);
scheduleRefresh();
