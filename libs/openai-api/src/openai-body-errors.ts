import { toErrorBody } from '@app/common';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { toOpenAiError } from './wire/openai-error';

const logger = new Logger('OpenAiBodyErrors');

/**
 * Express error middleware for `/v1`, mounted after the body parser: a malformed or oversized body fails before any
 * controller (and its exception filter) runs, and must still be answered in OpenAI's error shape.
 */
export function openAiBodyErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(err);
    return;
  }
  const mapped = toOpenAiError(toErrorBody(err, logger).body);
  res.status(mapped.status).json({ error: mapped.error });
}
