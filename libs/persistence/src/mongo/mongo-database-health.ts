import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DatabaseHealth } from '../ports/repositories';
import { MONGO_MODELS, type MongoModels } from './mongo-models';

/** Answers health checks with the server's `ping`, and closes the adapter's one connection at shutdown. */
@Injectable()
export class MongoDatabaseHealth extends DatabaseHealth implements OnApplicationShutdown {
  readonly kind = 'mongodb' as const;

  constructor(@Inject(MONGO_MODELS) private readonly m: MongoModels) {
    super();
  }

  async ping(): Promise<boolean> {
    try {
      const db = this.m.connection.db;
      if (!db) {
        return false;
      }
      const reply = await db.admin().ping();
      return reply.ok === 1;
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.m.connection.close();
  }
}
