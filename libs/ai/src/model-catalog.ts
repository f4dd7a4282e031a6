import { APP_CONFIG, AppError, type AppConfig } from '@app/common';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { contextWindowOf } from './known-models';
import { ModelProvider, type ModelInfo } from './model-provider';

/** What GET /models answers. */
export interface ModelList {
  models: ModelInfo[];
  defaultModel: string;
  /** No provider is configured: only the demo model is offered (the web app shows a banner). */
  demo: boolean;
}

/** How long a discovered list is trusted. */
export const MODEL_LIST_TTL_MS = 5 * 60_000;
/** After a failed discovery, how long the fallback is served before asking the provider again. */
export const MODEL_LIST_RETRY_MS = 30_000;

/**
 * The models users may pick. With MODELS: exactly those. Without: the provider's list, cached; concurrent callers
 * share one request, and a failure falls back to the last good list or to DEFAULT_MODEL alone. The demo provider
 * offers its demo model only.
 */
@Injectable()
export class ModelCatalog {
  private readonly logger = new Logger('ModelCatalog');
  private cached: { list: ModelList; expiresAt: number } | null = null;
  private lastGood: ModelList | null = null;
  private inFlight: Promise<ModelList> | null = null;

  constructor(
    private readonly provider: ModelProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get demo(): boolean {
    return this.provider.demo;
  }

  async list(): Promise<ModelList> {
    if (!this.provider.demo && this.config.models) {
      const models = this.config.models.map((m) => ({
        id: m.id,
        name: m.id,
        contextWindow: contextWindowOf(m.id, m.contextWindow),
      }));
      return this.withDefault(models);
    }
    if (this.cached && this.cached.expiresAt > this.now()) {
      return this.cached.list;
    }
    this.inFlight ??= this.discover().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
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

  private async discover(): Promise<ModelList> {
    try {
      const models = await this.provider.listModels();
      if (models.length === 0) {
        throw new AppError('upstream_error', 'The model provider offers no models');
      }
      const list = this.withDefault(models);
      this.lastGood = list;
      this.cached = { list, expiresAt: this.now() + MODEL_LIST_TTL_MS };
      return list;
    } catch (err) {
      const fallback = this.lastGood ?? this.defaultOnly();
      const serving = this.lastGood ? '; serving the last known list' : fallback ? '; serving DEFAULT_MODEL only' : '';
      this.logger.warn(`Could not list the provider's models (${describe(err)})${serving}`);
      if (!fallback) {
        throw err instanceof AppError ? err : new AppError('upstream_error', 'The model list is unavailable');
      }
      this.cached = { list: fallback, expiresAt: this.now() + MODEL_LIST_RETRY_MS };
      return fallback;
    }
  }

  private defaultOnly(): ModelList | null {
    const id = this.config.defaultModel;
    return id ? this.withDefault([{ id, name: id, contextWindow: contextWindowOf(id) }]) : null;
  }

  /** DEFAULT_MODEL (offered even when the provider's list lacks it) or the first model. */
  private withDefault(models: ModelInfo[]): ModelList {
    const demo = this.provider.demo;
    const wanted = demo ? undefined : (this.config.defaultModel ?? undefined);
    if (wanted && !models.some((m) => m.id === wanted)) {
      models = [{ id: wanted, name: wanted, contextWindow: contextWindowOf(wanted) }, ...models];
    }
    return { models, defaultModel: wanted ?? models[0].id, demo };
  }
}

function describe(err: unknown): string {
  if (err instanceof AppError) {
    return err.code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}
