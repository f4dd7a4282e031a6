import { AcceptsApiKey, type AuthUser, CurrentUser } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/common';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RegenerateDto, SendMessageDto } from '../dto/send-message.dto';
import { ExchangeView, MessagePageView, StoppedView } from '../dto/responses.dto';
import { ListMessagesQuery } from '../dto/thread.dto';
import { GenerationService, type Started } from '../generation/generation.service';
import { ReplyFollower } from '../generation/reply-follower';
import { streamReply } from '../sse/sse-responder';
import { UserEventRate } from '../generation/user-event-rate';
import { MessageService } from '../message.service';

/** OpenAPI: what a send during a drain answers. */
const DRAINING = '`unavailable`: this instance is shutting down (Retry-After: 1); retry, another instance takes it';

@ApiTags('messages')
@ApiBearerAuth()
@AcceptsApiKey()
@Controller('threads/:id')
export class MessagesController {
  constructor(
    private readonly messages: MessageService,
    private readonly generation: GenerationService,
    private readonly follower: ReplyFollower,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly rate: UserEventRate,
  ) {}

  @Get('messages')
  @ApiOperation({
    summary: 'The active branch (newest `limit` older than `before`, oldest first), or every message with branch=all',
  })
  @ApiOkResponse({ type: MessagePageView })
  list(@CurrentUser() auth: AuthUser, @Param('id') id: string, @Query() query: ListMessagesQuery) {
    return this.messages.list(auth, id, query);
  }

  @Post('messages')
  @ApiServiceUnavailableResponse({ description: DRAINING })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOperation({
    summary: 'Send a message and generate the reply: SSE with Accept: text/event-stream, else waits (201)',
    description:
      'SSE events: message, created, delta* ({ messageId, seq, delta, kind? }), then done or error. A delta with ' +
      'kind "reasoning" carries the model\'s thinking text (reasoning_content / reasoning upstream), apart from the ' +
      'answer; it is stored as the Message field reasoning (string | null) and never sent back to a model as history.',
  })
  @ApiCreatedResponse({
    type: ExchangeView,
    description: 'Without Accept: text/event-stream, once the reply has ended',
  })
  async send(
    @CurrentUser() auth: AuthUser,
    @Param('id') id: string,
    @Body() dto: SendMessageDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    this.rate.consume(auth.userId); // the same per-user budget as socket events
    await this.respond(auth, req, res, await this.generation.send(auth, id, dto));
  }

  @Post('regenerate')
  @ApiServiceUnavailableResponse({ description: DRAINING })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOperation({
    summary: 'A new answer as a sibling of messageId (default: the active answer), made the active branch',
  })
  @ApiCreatedResponse({
    type: ExchangeView,
    description: 'Without Accept: text/event-stream, once the reply has ended',
  })
  async regenerate(
    @CurrentUser() auth: AuthUser,
    @Param('id') id: string,
    @Body() dto: RegenerateDto,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    this.rate.consume(auth.userId);
    await this.respond(auth, req, res, await this.generation.regenerate(auth, id, dto));
  }

  @Post('stop')
  @HttpCode(202)
  @ApiOperation({ summary: "Stops the thread's running generation (from any instance); 404 when none runs" })
  @ApiAcceptedResponse({ type: StoppedView })
  async stop(@CurrentUser() auth: AuthUser, @Param('id') id: string): Promise<StoppedView> {
    await this.generation.stop(auth, id);
    return { stopped: true };
  }

  private async respond(auth: AuthUser, req: Request, res: Response, started: Started): Promise<void> {
    if (req.accepts(['application/json', 'text/event-stream']) === 'text/event-stream') {
      await streamReply(res, auth.userId, started, this.follower, this.config.ssePingIntervalMs);
      return;
    }
    res.status(201).json(await this.follower.outcome(auth.userId, started));
  }
}
