import { type DynamicModule, Module } from '@nestjs/common';
import {
  ApiKeyRepository,
  AuditRepository,
  DatabaseHealth,
  MessageRepository,
  SessionRepository,
  ThreadRepository,
  UsageRepository,
  UserRepository,
} from '../ports/repositories';
import { MongoApiKeyRepository } from './mongo-api-key.repository';
import { MongoAuditRepository } from './mongo-audit.repository';
import { MongoDatabaseHealth } from './mongo-database-health';
import { MongoMessageRepository } from './mongo-message.repository';
import { MONGO_MODELS, type MongoModels, openMongo } from './mongo-models';
import { MongoSessionRepository } from './mongo-session.repository';
import { MongoThreadRepository } from './mongo-thread.repository';
import { MongoUsageRepository } from './mongo-usage.repository';
import { MongoUserRepository } from './mongo-user.repository';

/** All repositories on one mongoose connection to `uri`, connected and indexed before the app starts. */
@Module({})
export class MongoPersistenceModule {
  static register(uri: string): DynamicModule {
    const repo = <T>(token: abstract new (...args: never[]) => T, make: (m: MongoModels) => T) => ({
      provide: token,
      useFactory: make,
      inject: [MONGO_MODELS],
    });
    const providers = [
      { provide: MONGO_MODELS, useFactory: () => openMongo(uri) },
      repo(UserRepository, (m) => new MongoUserRepository(m)),
      repo(SessionRepository, (m) => new MongoSessionRepository(m)),
      repo(ThreadRepository, (m) => new MongoThreadRepository(m)),
      repo(MessageRepository, (m) => new MongoMessageRepository(m)),
      repo(AuditRepository, (m) => new MongoAuditRepository(m)),
      repo(UsageRepository, (m) => new MongoUsageRepository(m)),
      repo(ApiKeyRepository, (m) => new MongoApiKeyRepository(m)),
      { provide: DatabaseHealth, useClass: MongoDatabaseHealth },
    ];
    return {
      module: MongoPersistenceModule,
      providers,
      // The repositories and the health check; the connection and its models stay inside the adapter.
      exports: providers.map((p) => p.provide).filter((token) => token !== MONGO_MODELS),
    };
  }
}
