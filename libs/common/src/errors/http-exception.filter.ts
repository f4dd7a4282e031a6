import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { JSON_TOO_DEEP_MESSAGE } from '../validation/json-depth';
import { AppError, ErrorBody, ErrorCode, errorBody } from './app-error';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'validation_failed',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The `type` of the body-parser error raised for too deeply nested JSON (see `jsonBodyParser`). */
export const JSON_TOO_DEEP_TYPE = 'entity.too.deep';

/**
 * Turns anything thrown by an HTTP handler into the contract's error shape. Unknown errors become a generic 500
 * with an error id; the stack and the original message go to the log only.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') {
      throw exception;
    }
    const res = host.switchToHttp().getResponse<Response>();
    const { body, retryAfterSeconds } = toErrorBody(exception, this.logger);
    if (res.headersSent) {
      // An SSE stream already started: the pipeline reports errors in-band; just end the response.
      res.end();
      return;
    }
    if (retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(retryAfterSeconds));
    }
    res.status(body.statusCode).json(body);
  }
}

export function toErrorBody(exception: unknown, logger: Logger): { body: ErrorBody; retryAfterSeconds?: number } {
  if (exception instanceof AppError) {
    return { body: errorBody(exception), retryAfterSeconds: exception.extra.retryAfterSeconds };
  }
  // Express's JSON parser error (Nest wraps it in a 400 with the parser's message, which quotes the body:
  // never echo it, it may hold a password).
  if (exception instanceof HttpException && exception.cause instanceof SyntaxError) {
    return { body: { statusCode: 400, error: 'validation_failed', message: 'Malformed JSON body', details: [] } };
  }
  // body-parser errors are errors with a status and a type (Nest may wrap them in an HttpException as its cause).
  const parserError = ((exception instanceof HttpException ? exception.cause : undefined) ?? exception) as {
    status?: number;
    type?: string;
  };
  if (parserError?.type === 'entity.too.large') {
    return { body: { statusCode: 413, error: 'payload_too_large', message: 'Request body is too large' } };
  }
  if (parserError?.type === JSON_TOO_DEEP_TYPE) {
    return { body: { statusCode: 400, error: 'validation_failed', message: JSON_TOO_DEEP_MESSAGE, details: [] } };
  }
  if (parserError?.type === 'entity.parse.failed') {
    return { body: { statusCode: 400, error: 'validation_failed', message: 'Malformed JSON body', details: [] } };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_CODES[status];
    if (code) {
      return { body: { statusCode: status, error: code, message: httpMessage(exception, code) } };
    }
  }
  if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
    const code = STATUS_CODES[parserError.status] ?? 'validation_failed';
    return { body: { statusCode: parserError.status, error: code, message: 'Bad request' } };
  }
  const errorId = randomUUID();
  logger.error({ err: exception, errorId }, 'Unhandled error');
  return { body: { statusCode: 500, error: 'internal', message: 'Internal server error', errorId } };
}

function httpMessage(exception: HttpException, code: ErrorCode): string {
  const response = exception.getResponse();
  if (code === 'not_found') {
    return 'Route not found';
  }
  if (
    typeof response === 'object' &&
    response !== null &&
    typeof (response as { message?: unknown }).message === 'string'
  ) {
    return (response as { message: string }).message;
  }
  return exception.message;
}
