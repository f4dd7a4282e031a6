import { AiModule } from '@app/ai';
import { AuthModule } from '@app/auth';
import { ChatModule } from '@app/chat';
import { GatewayModule } from '@app/gateway';
import { OpenAiApiModule } from '@app/openai-api';
import {
  AppConfig,
  ConfigModule,
  DrainModule,
  MetricsModule,
  REDACTED,
  REDACTED_LOG_PATHS,
  RedisModule,
  redactedRequest,
} from '@app/common';
import { PersistenceModule } from '@app/persistence';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiIndexController } from './api-index.controller';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsListener } from './metrics/metrics-listener';

const REQUEST_ID = /^[\w-]{1,64}$/;

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        MetricsModule,
        DrainModule,
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req: IncomingMessage) => {
              const given = req.headers['x-request-id'];
              return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
            },
            // Credentials never reach a log line: headers by path, tokens in URLs (`?token=`) by the serializer.
            redact: { paths: REDACTED_LOG_PATHS, censor: REDACTED },
            serializers: { req: redactedRequest },
            autoLogging: { ignore: (req) => req.url === '/api/health' || req.url === '/metrics' },
            transport:
              config.nodeEnv === 'development' ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
          },
        }),
        RedisModule,
        PersistenceModule.forRoot({ mongodbUri: config.mongodbUri }),
        AiModule,
        AuthModule,
        ChatModule,
        GatewayModule,
        OpenAiApiModule,
      ],
      controllers: [ApiIndexController, HealthController, MetricsController],
      providers: [MetricsListener],
    };
  }
}
