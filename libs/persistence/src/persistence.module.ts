import { DynamicModule, Global, Module } from '@nestjs/common';
import { MongoPersistenceModule } from './mongo/mongo-persistence.module';
import { SqlitePersistenceModule } from './sqlite/sqlite-persistence.module';

/** Picks the adapter once at boot: MongoDB when MONGODB_URI is set, the embedded SQLite file otherwise. */
@Global()
@Module({})
export class PersistenceModule {
  static forRoot(options: { mongodbUri: string | null }): DynamicModule {
    const adapter = options.mongodbUri
      ? MongoPersistenceModule.register(options.mongodbUri)
      : SqlitePersistenceModule.register();
    return { module: PersistenceModule, imports: [adapter], exports: [adapter] };
  }
}
