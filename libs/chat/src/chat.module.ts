import { AiModule } from '@app/ai';
import { AuthModule } from '@app/auth';
import { APP_CONFIG, type AppConfig, ConfabMetrics, RedisConnections } from '@app/common';
import { Module } from '@nestjs/common';
import { MessagesController } from './controllers/messages.controller';
import { AccountExportController } from './export/account-export.controller';
import { ModelsController } from './controllers/models.controller';
import { ThreadsController } from './controllers/threads.controller';
import { GenerationService } from './generation/generation.service';
import { GenerationSlots } from './generation/generation-slots';
import { ReplyQuota } from './generation/reply-quota';
import { UserEventRate } from './generation/user-event-rate';
import { ReplyFollower } from './generation/reply-follower';
import { RedisThreadEventBus } from './events/redis-thread-event-bus';
import { ReplySweeper } from './generation/reply-sweeper';
import { ThreadEventBus } from './events/thread-event-bus';
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
  exports: [ThreadService, GenerationService, ThreadEventBus, ReplyFollower, UserEventRate],
})
export class ChatModule {}
