import { AiModule } from '@app/ai';
import { AuthModule } from '@app/auth';
import { APP_CONFIG, type AppConfig, ConfabMetrics, RedisConnections } from '@app/common';
import { Module } from '@nestjs/common';
import { MessagesController } from './controllers/messages.controller';
import { ModelsController } from './controllers/models.controller';
import { ThreadsController } from './controllers/threads.controller';
import { RedisThreadEventBus } from './events/redis-thread-event-bus';
import { ThreadEventBus } from './events/thread-event-bus';
import { AccountExportController } from './export/account-export.controller';
import { CompletionService } from './generation/completion.service';
import { GenerationService } from './generation/generation.service';
import { GenerationSlots } from './generation/generation-slots';
import { PromptBuilder } from './generation/prompt-builder';
import { ReplyFollower } from './generation/reply-follower';
import { ReplyFlusher } from './generation/reply-flusher';
import { ReplyLauncher } from './generation/reply-launcher';
import { ReplyQuota } from './generation/reply-quota';
import { Replays } from './generation/replays';
import { ReplySweeper } from './generation/reply-sweeper';
import { RunRegistry } from './generation/run-registry';
import { ThreadTitler } from './generation/thread-titler';
import { UserEventRate } from './generation/user-event-rate';
import { MessageService } from './message.service';
import { ThreadService } from './thread.service';

/** Threads, messages and the one generation pipeline, with their REST + SSE routes. */
@Module({
  imports: [AiModule, AuthModule],
  controllers: [ModelsController, ThreadsController, MessagesController, AccountExportController],
  providers: [
    ThreadService,
    MessageService,
    GenerationService,
    CompletionService,
    RunRegistry,
    PromptBuilder,
    ReplyLauncher,
    ReplyFlusher,
    ThreadTitler,
    Replays,
    ReplyFollower,
    ReplySweeper,
    ReplyQuota,
    GenerationSlots,
    UserEventRate,
    {
      provide: ThreadEventBus,
      useFactory: (redis: RedisConnections, metrics: ConfabMetrics, config: AppConfig) =>
        redis.enabled
          ? new RedisThreadEventBus(redis, metrics, { channels: config.redisThreadChannels })
          : new ThreadEventBus(),
      inject: [RedisConnections, ConfabMetrics, APP_CONFIG],
    },
  ],
  exports: [ThreadService, GenerationService, CompletionService, ThreadEventBus, ReplyFollower, UserEventRate],
})
export class ChatModule {}
