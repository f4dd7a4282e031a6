import { AcceptsApiKey, type AuthUser, CurrentUser } from '@app/auth';
import { AppError, isId } from '@app/common';
import { Body, Controller, Headers, Post, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ChatCompletionsService, type ThreadTarget } from './chat-completions.service';
import { ChatCompletionRequestDto } from './dto/chat-completion-request.dto';
import { OpenAiExceptionFilter } from './openai-exception.filter';
import { translateRequest } from './wire/request-translation';

@ApiTags('openai-compatible')
@ApiBearerAuth()
@AcceptsApiKey()
@UseFilters(OpenAiExceptionFilter)
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(private readonly completions: ChatCompletionsService) {}

  @Post('completions')
  @ApiOperation({
    summary: "OpenAI's chat completions (streaming and not), on the caller's quota and the server's models",
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({
    name: 'X-Confab-Thread',
    required: false,
    description: '`new` or a thread id: also save the exchange into that thread (answered with its id)',
  })
  async create(
    @CurrentUser() auth: AuthUser,
    @Body() dto: ChatCompletionRequestDto,
    @Headers('x-confab-thread') thread: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    await this.completions.complete(auth, translateRequest(dto), threadTarget(thread), res);
  }
}

function threadTarget(header: string | undefined): ThreadTarget {
  if (header === undefined || header === '') {
    return { kind: 'none' };
  }
  if (header === 'new') {
    return { kind: 'new' };
  }
  if (!isId(header)) {
    throw AppError.notFound('Thread');
  }
  return { kind: 'existing', threadId: header };
}
