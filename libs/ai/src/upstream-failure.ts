import { AppError } from '@app/common';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';

/** Our own timer fired: no response headers, or no next chunk, within the configured timeout. */
export class UpstreamTimeoutError extends Error {
  override name = 'UpstreamTimeoutError';
}

/** The stream ended without a finish reason: the reply is incomplete. */
export class IncompleteStreamError extends Error {
  override name = 'IncompleteStreamError';
}

/** A `retry-after` longer than this is not worth waiting for inside a request: the caller gets `rate_limited`. */
export const MAX_RETRY_AFTER_MS = 2_000;

export interface UpstreamFailure {
  /** What the caller sees: a contract code and a generic message, never the key, the URL or an upstream body. */
  error: AppError;
  /** Safe to try again if nothing was delivered yet. */
  retryable: boolean;
  /** The upstream's wish, from `retry-after-ms` / `retry-after`. */
  retryAfterMs?: number;
  /** For the log: status or error class, never a body. */
  summary: string;
}

/** Maps anything the SDK (or our own stream handling) threw to the contract's vocabulary. */
export function upstreamFailure(err: unknown): UpstreamFailure {
  if (err instanceof UpstreamTimeoutError || err instanceof APIConnectionTimeoutError) {
    return {
      error: new AppError('upstream_timeout', 'The model provider did not respond in time'),
      retryable: false,
      summary: 'timed out',
    };
  }
  if (err instanceof APIError && err.status === 429) {
    const retryAfterMs = retryAfter(err.headers);
    return {
      error: new AppError('rate_limited', 'The model provider is rate limiting requests; try again later', {
        retryAfterSeconds: Math.max(1, Math.ceil((retryAfterMs ?? 1_000) / 1_000)),
      }),
      retryable: retryAfterMs === undefined || retryAfterMs <= MAX_RETRY_AFTER_MS,
      retryAfterMs,
      summary: 'status 429',
    };
  }
  if (err instanceof APIConnectionError) {
    return { error: failed(), retryable: true, summary: 'connection failed' };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const serverSide = err.status >= 500;
    return {
      error: serverSide ? failed() : new AppError('upstream_error', 'The model provider rejected the request'),
      retryable: serverSide,
      summary: `status ${err.status}`,
    };
  }
  if (err instanceof APIError) {
    return { error: failed(), retryable: false, summary: 'error event in the stream' };
  }
  if (err instanceof IncompleteStreamError) {
    return {
      error: new AppError('upstream_error', 'The model provider ended the reply unexpectedly'),
      retryable: false,
      summary: 'stream ended without a finish reason',
    };
  }
  // A connection lost while reading the body: node:http (nodeFetch) reports it by its code ("aborted", ECONNRESET),
  // undici's fetch as a TypeError ("terminated"). By name: it may come from another realm (test runners' VM
  // contexts) where `instanceof TypeError` fails.
  if (errorName(err) === 'TypeError' || CONNECTION_LOST.has(errorCode(err) ?? '')) {
    return { error: failed(), retryable: true, summary: 'connection lost' };
  }
  return { error: failed(), retryable: false, summary: errorName(err) ?? 'unknown failure' };
}

/** Error codes of a connection that went away mid-response. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

function errorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function errorName(err: unknown): string | undefined {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

function failed(): AppError {
  return new AppError('upstream_error', 'The model provider failed');
}

function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) {
    return ms;
  }
  const value = headers?.get('retry-after');
  if (!value) {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1_000;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A failure mapped to the contract's vocabulary that also keeps, for operators, what happened (never a body). */
export class DescribedUpstreamError extends AppError {
  constructor(
    error: AppError,
    /** `status 401`, `timed out`, `connection failed`. */
    readonly reason: string,
  ) {
    super(error.code, error.message, error.extra);
  }
}
