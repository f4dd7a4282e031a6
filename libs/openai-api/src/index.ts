export * from './openai-api.module';
export { openAiBodyErrors } from './openai-body-errors';
