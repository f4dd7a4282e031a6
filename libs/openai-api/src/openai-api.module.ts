import { AiModule } from '@app/ai';
import { AuthModule } from '@app/auth';
import { ChatModule } from '@app/chat';
import { Module } from '@nestjs/common';
import { ChatCompletionsController } from './chat-completions.controller';
import { ChatCompletionsService } from './chat-completions.service';
import { OpenAiModelsController } from './models.controller';
import { UnknownOpenAiRouteController } from './unknown-route.controller';

/**
 * The OpenAI-compatible API under `/v1` (outside the `/api` prefix, so `baseURL: "http://host:3000/v1"` works): a
 * transport that translates OpenAI's shapes to and from the one generation pipeline. Errors in OpenAI's shape.
 */
@Module({
  imports: [AiModule, AuthModule, ChatModule],
  // The catch-all last: routes match in registration order.
  controllers: [OpenAiModelsController, ChatCompletionsController, UnknownOpenAiRouteController],
  providers: [ChatCompletionsService],
})
export class OpenAiApiModule {}
