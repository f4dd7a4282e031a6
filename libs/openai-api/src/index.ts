export * from './openai-api.module';
