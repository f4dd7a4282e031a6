import { AppError } from '@app/common';
import { type CompletionEvent, type CompletionRequest, ModelProvider, type ModelInfo } from './model-provider';
import type { ProviderRegistry } from './provider-registry';

/**
 * The `ModelProvider` the pipeline sees when several providers are configured: each request goes to the provider
 * its `<provider>/<model>` id names, with the provider's own model id. Nothing model-specific happens here.
 */
export class RoutedModelProvider extends ModelProvider {
  readonly demo = false;

  constructor(private readonly registry: ProviderRegistry) {
    super();
  }

  stream(request: CompletionRequest): AsyncIterable<CompletionEvent> {
    const route = this.registry.route(request.model);
    if (!route) {
      throw AppError.validation([{ field: 'model', message: 'unknown model' }]);
    }
    return route.entry.provider.stream({ ...request, model: route.model });
  }

  /** Every provider's list under catalog ids; a provider that fails is left out (the catalog keeps its state). */
  async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    const lists = await Promise.allSettled(
      this.registry.entries.map(async (entry) =>
        (await entry.provider.listModels(signal)).map((m) => ({ ...m, id: this.registry.catalogId(entry, m.id) })),
      ),
    );
    return lists.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  }
}
