import { APP_CONFIG, type AppConfig } from '@app/common';
import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
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
import { SqliteApiKeyRepository } from './sqlite-api-key.repository';
import { SqliteAuditRepository } from './sqlite-audit.repository';
import type { Db } from './sqlite-database';
import { openSqlite } from './sqlite-database';
import { SqliteMessageRepository } from './sqlite-message.repository';
import { SqliteSessionRepository } from './sqlite-session.repository';
import { SqliteThreadRepository } from './sqlite-thread.repository';
import { SqliteUsageRepository } from './sqlite-usage.repository';
import { SqliteUserRepository } from './sqlite-user.repository';

export const SQLITE_DB = Symbol('SQLITE_DB');

@Injectable()
class SqliteHealth extends DatabaseHealth implements OnApplicationShutdown {
  readonly kind = 'sqlite' as const;

  constructor(@Inject(SQLITE_DB) private readonly db: Db) {
    super();
  }

  async ping(): Promise<boolean> {
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  onApplicationShutdown(): void {
    if (this.db.open) {
      this.db.close();
    }
  }
}

/** All repositories on one better-sqlite3 connection to `DATA_DIR/confab.db`. */
@Module({})
export class SqlitePersistenceModule {
  static register(): DynamicModule {
    const repo = <T>(token: abstract new (...args: never[]) => T, make: (db: Db) => T) => ({
      provide: token,
      useFactory: make,
      inject: [SQLITE_DB],
    });
    const providers = [
      {
        provide: SQLITE_DB,
        useFactory: (config: AppConfig) => openSqlite(join(config.dataDir, 'confab.db')),
        inject: [APP_CONFIG],
      },
      repo(UserRepository, (db) => new SqliteUserRepository(db)),
      repo(SessionRepository, (db) => new SqliteSessionRepository(db)),
      repo(ThreadRepository, (db) => new SqliteThreadRepository(db)),
      repo(MessageRepository, (db) => new SqliteMessageRepository(db)),
      repo(AuditRepository, (db) => new SqliteAuditRepository(db)),
      repo(UsageRepository, (db) => new SqliteUsageRepository(db)),
      repo(ApiKeyRepository, (db) => new SqliteApiKeyRepository(db)),
      { provide: DatabaseHealth, useClass: SqliteHealth },
    ];
    return {
      module: SqlitePersistenceModule,
      providers,
      exports: providers.map((p) => p.provide),
    };
  }
}
