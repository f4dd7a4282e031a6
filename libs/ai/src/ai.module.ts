import { APP_CONFIG, type AppConfig } from '@app/common';
import { Logger, Module } from '@nestjs/common';
import { DemoProvider } from './demo.provider';
import { ModelCatalog } from './model-catalog';
import { ModelProvider } from './model-provider';
import { OpenAiProvider } from './openai.provider';
import { TokenCounter } from './token-counter';

function createModelProvider(config: AppConfig, tokenCounter: TokenCounter): ModelProvider {
  const logger = new Logger('AiModule');
  if (!config.openaiApiKey) {
    logger.warn('No OPENAI_API_KEY: offering only the built-in demo model');
    return new DemoProvider(tokenCounter);
  }
  // The host only: a base URL may carry credentials, and the key is never logged.
  const host = config.openaiBaseUrl ? new URL(config.openaiBaseUrl).host : 'api.openai.com';
  logger.log(`Model provider: OpenAI-compatible API at ${host}`);
  return OpenAiProvider.fromConfig(config, tokenCounter);
}

/** Model providers, the model catalog and token counting. */
@Module({
  providers: [
    TokenCounter,
    { provide: ModelProvider, useFactory: createModelProvider, inject: [APP_CONFIG, TokenCounter] },
    ModelCatalog,
  ],
  exports: [ModelProvider, ModelCatalog, TokenCounter],
})
export class AiModule {}
