import { AcceptsApiKey } from '@app/auth';
import { AppError } from '@app/common';
import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { OpenAiExceptionFilter } from './openai-exception.filter';

/** Any other `/v1` path (embeddings, images ...) answers 404 in OpenAI's shape, so SDKs raise NotFoundError. */
@ApiExcludeController()
@AcceptsApiKey()
@UseFilters(OpenAiExceptionFilter)
@Controller('v1')
export class UnknownOpenAiRouteController {
  @All('{*path}')
  unknown(): never {
    throw new AppError('not_found', 'This server offers only /v1/models and /v1/chat/completions');
  }
}
