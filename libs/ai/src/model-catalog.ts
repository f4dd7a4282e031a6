import { APP_CONFIG, AppError, type AppConfig } from '@app/common';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { contextWindowOf } from './known-models';
import type { ModelInfo } from './model-provider';
import { MODEL_LIST_RETRY_MS, ProviderModels, type ProviderStatus } from './provider-models';
import { ProviderRegistry } from './provider-registry';

export { MODEL_LIST_RETRY_MS, MODEL_LIST_TTL_MS, type ProviderStatus } from './provider-models';

/** What GET /models answers. */
export interface ModelList {
  models: ModelInfo[];
  defaultModel: string;
  /** No provider is configured: only the demo model is offered (the web app shows a banner). */
  demo: boolean;
}

/**
 * The models users may pick, merged from every provider (ids `<provider>/<model>` when there are several). Each
 * provider's list is discovered, cached and refreshed in the background; a provider that fails or times out keeps
 * its last good list (or its allow-list) and never hides the others. Only a provider that never answered and has
 * no allow-list is waited for (bounded by its timeout). With nothing to offer at all: DEFAULT_MODEL alone, or the
 * failure. The demo provider offers its demo model only.
 */
@Injectable()
export class ModelCatalog implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly providers: ProviderModels[];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.providers = registry.entries.map((entry) => new ProviderModels(entry, () => this.now()));
  }

  /** Discovers every provider's models at start (not awaited) and keeps them fresh in the background. */
  onApplicationBootstrap(): void {
    if (this.registry.demo) {
      return;
    }
    void this.refreshStale();
    this.timer = setInterval(() => void this.refreshStale(), MODEL_LIST_RETRY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Asks every provider whose list is stale; resolves when they all answered (never rejects). */
  async refreshStale(): Promise<void> {
    await Promise.all(this.providers.filter((p) => p.stale).map((p) => p.refresh()));
  }

  /** Each provider's last discovery, for `/api/health`. */
  status(): ProviderStatus[] {
    if (this.registry.demo) {
      return [{ name: this.registry.entries[0].name, status: 'ok', models: 1, checkedAt: null }];
    }
    return this.providers.map((p) => p.status());
  }

  async list(): Promise<ModelList> {
    if (this.registry.demo) {
      const models = await this.registry.entries[0].provider.listModels();
      return { models, defaultModel: models[0].id, demo: true };
    }
    await Promise.all(this.providers.filter((p) => p.mustWait).map((p) => p.refresh()));
    // The others answer from their cache at once and refresh behind it.
    for (const p of this.providers) {
      if (p.stale) {
        void p.refresh();
      }
    }
    const models = this.providers.flatMap((p) =>
      p.offered().map((m) => {
        const id = this.registry.catalogId(p.entry, m.id);
        // A bare id as the name would be ambiguous across providers; a provider's display name is kept.
        return { ...m, id, name: m.name === m.id ? id : m.name };
      }),
    );
    if (models.length === 0) {
      const wanted = this.config.defaultModel;
      if (wanted) {
        return this.withDefault([]);
      }
      this.providers.forEach((p) => p.retrySoon());
      throw this.providers[0].lastError();
    }
    return this.withDefault(models);
  }

  /** The model to use: the default when `modelId` is undefined; `validation_failed` for one not offered. */
  async resolve(modelId?: string): Promise<ModelInfo> {
    const { models, defaultModel } = await this.list();
    const id = modelId ?? defaultModel;
    const found = models.find((m) => m.id === id);
    if (!found) {
      throw AppError.validation([{ field: 'model', message: 'unknown model' }]);
    }
    return found;
  }

  /** Milliseconds since the epoch; a seam for tests. */
  protected now(): number {
    return Date.now();
  }

  /** DEFAULT_MODEL (offered even when its provider's list lacks it) or the first model. */
  private withDefault(models: ModelInfo[]): ModelList {
    const wanted = this.config.defaultModel ?? undefined;
    if (wanted && !models.some((m) => m.id === wanted)) {
      models = [{ id: wanted, name: wanted, contextWindow: contextWindowOf(wanted) }, ...models];
    }
    return { models, defaultModel: wanted ?? models[0].id, demo: false };
  }
}
