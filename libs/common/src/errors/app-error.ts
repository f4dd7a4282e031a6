/** The contract's stable error vocabulary (API.md, "Errors"). */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthorized'
  | 'account_disabled'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'unavailable'
  | 'internal';

export interface ErrorDetail {
  field: string;
  message: string;
}

/** A domain error: services throw it, each transport maps its code (HTTP status, WS ack, SSE event). */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { details?: ErrorDetail[]; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`);
  }

  static validation(details: ErrorDetail[]): AppError {
    return new AppError('validation_failed', 'Request validation failed', { details });
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'validation_failed':
      return 400;
    case 'unauthorized':
      return 401;
    case 'account_disabled':
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'payload_too_large':
      return 413;
    case 'rate_limited':
    case 'quota_exceeded':
      return 429;
    case 'upstream_error':
      return 502;
    case 'unavailable':
      return 503;
    case 'upstream_timeout':
      return 504;
    case 'internal':
      return 500;
  }
}

/** The JSON body of an error, as every transport sends it. */
export interface ErrorBody {
  statusCode: number;
  error: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  errorId?: string;
}

export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { statusCode: httpStatusOf(err.code), error: err.code, message: err.message };
  if (err.extra.details) {
    body.details = err.extra.details;
  }
  return body;
}
