import { APP_CONFIG, type AppConfig } from '@app/common';
import { Module } from '@nestjs/common';
import { ModelCatalog } from './model-catalog';
import { ModelProvider } from './model-provider';
import { createProviderRegistry, ProviderRegistry } from './provider-registry';
import { RoutedModelProvider } from './routed.provider';
import { TokenCounter } from './token-counter';

/** One provider serves every model as it is; several are routed by the `<provider>/` prefix of the model id. */
function modelProviderOf(registry: ProviderRegistry): ModelProvider {
  return registry.prefixed ? new RoutedModelProvider(registry) : registry.entries[0].provider;
}

/** Model providers (the registry behind the one port), the model catalog and token counting. */
@Module({
  providers: [
    TokenCounter,
    {
      provide: ProviderRegistry,
      useFactory: (config: AppConfig, tokens: TokenCounter) => createProviderRegistry(config, tokens),
      inject: [APP_CONFIG, TokenCounter],
    },
    { provide: ModelProvider, useFactory: modelProviderOf, inject: [ProviderRegistry] },
    ModelCatalog,
  ],
  exports: [ModelProvider, ModelCatalog, TokenCounter, ProviderRegistry],
})
export class AiModule {}
