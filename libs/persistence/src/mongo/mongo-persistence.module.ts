import { DynamicModule, Module } from '@nestjs/common';

/** Placeholder until the mongoose adapter lands. */
@Module({})
export class MongoPersistenceModule {
  static register(uri: string): DynamicModule {
    void uri;
    throw new Error('MongoDB adapter not implemented yet');
  }
}
