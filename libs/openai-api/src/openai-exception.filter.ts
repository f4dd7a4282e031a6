import { toErrorBody } from '@app/common';
import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { toOpenAiError } from './wire/openai-error';

/**
 * The `/v1` transport's exception filter: the same classification as the rest of the API (`toErrorBody`), written
 * in OpenAI's shape. A response already streaming reports its errors in-band (see `ChunkStream`); it is only ended.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OpenAiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { body, retryAfterSeconds } = toErrorBody(exception, this.logger);
    if (res.headersSent) {
      res.end();
      return;
    }
    const mapped = toOpenAiError(body);
    if (retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(retryAfterSeconds));
    }
    if (mapped.shouldRetry === false) {
      res.setHeader('x-should-retry', 'false');
    }
    res.status(mapped.status).json({ error: mapped.error });
  }
}
