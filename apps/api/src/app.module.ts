import { AiModule } from '@app/ai';
import { AuthModule } from '@app/auth';
import { ChatModule } from '@app/chat';
import { GatewayModule } from '@app/gateway';
import { OpenAiApiModule } from '@app/openai-api';
import { AppConfig, ConfigModule, RedisModule } from '@app/common';
import { PersistenceModule } from '@app/persistence';
import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiIndexController } from './api-index.controller';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';

const REQUEST_ID = /^[\w-]{1,64}$/;

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: (req: IncomingMessage) => {
              const given = req.headers['x-request-id'];
              return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
            },
            redact: {
              paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
              censor: '[redacted]',
            },
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
    };
  }
}
