import type { ErrorBody } from '@app/common';

/** OpenAI's error object, as its SDKs parse it. */
export interface OpenAiErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface OpenAiError {
  status: number;
  error: OpenAiErrorObject;
  /** False for errors no retry can fix soon (an exhausted daily quota): SDKs read `x-should-retry`. */
  shouldRetry?: boolean;
}

/**
 * Maps the contract's error body to OpenAI's shape and status, so that OpenAI SDKs raise the right error class
 * (401 AuthenticationError, 403 PermissionDeniedError, 404 NotFoundError, 429 RateLimitError ...). Messages are the
 * contract's own, which never carry the provider's key, base URL or upstream body.
 */
export function toOpenAiError(body: ErrorBody): OpenAiError {
  const firstDetail = body.details?.[0];
  const error = (type: string, code: string | null, message = body.message, param: string | null = null) => ({
    message,
    type,
    param,
    code,
  });
  switch (body.error) {
    case 'validation_failed':
      if (firstDetail?.field === 'model' && firstDetail.message === 'unknown model') {
        return {
          status: 404,
          error: error(
            'invalid_request_error',
            'model_not_found',
            'The model does not exist or is not offered here',
            'model',
          ),
        };
      }
      return {
        status: 400,
        error: error(
          'invalid_request_error',
          null,
          firstDetail ? body.details!.map((d) => d.message).join('; ') : body.message,
          firstDetail?.field ?? null,
        ),
      };
    case 'unauthorized':
      return { status: 401, error: error('invalid_request_error', 'invalid_api_key') };
    case 'account_disabled':
    case 'forbidden':
      return { status: 403, error: error('permission_error', body.error) };
    case 'not_found':
      return { status: 404, error: error('invalid_request_error', 'not_found') };
    case 'conflict':
      return { status: 409, error: error('invalid_request_error', 'conflict') };
    case 'payload_too_large':
      return { status: 413, error: error('invalid_request_error', 'payload_too_large') };
    case 'rate_limited':
      return { status: 429, error: error('requests', 'rate_limit_exceeded') };
    case 'quota_exceeded':
      return { status: 429, error: error('insufficient_quota', 'insufficient_quota'), shouldRetry: false };
    case 'upstream_error':
      return { status: 502, error: error('api_error', 'upstream_error') };
    case 'upstream_timeout':
      return { status: 504, error: error('api_error', 'upstream_timeout') };
    case 'unavailable':
      return { status: 503, error: error('api_error', 'unavailable') };
    case 'internal':
      return { status: 500, error: error('api_error', 'internal_error') };
  }
}
