import { AppError } from '@app/common';
import { Logger } from '@nestjs/common';
import { contextWindowOf } from './known-models';
import type { ModelInfo } from './model-provider';
import type { ProviderEntry } from './provider-registry';
import { DescribedUpstreamError } from './upstream-failure';

/** How long a discovered list is trusted. */
export const MODEL_LIST_TTL_MS = 5 * 60_000;
/** After a failed discovery, how long before the provider is asked again (doubled per failure, up to the TTL). */
export const MODEL_LIST_RETRY_MS = 30_000;

/** A provider's last discovery, as `/api/health` reports it: no key, header, URL or upstream body. */
export interface ProviderStatus {
  name: string;
  /** `pending`: not answered yet; `ok`: the last discovery succeeded; `error`: it failed (see `error`). */
  status: 'pending' | 'ok' | 'error';
  /** Models offered from this provider now. */
  models: number;
  /** When the last discovery ended (ISO 8601); null before the first. */
  checkedAt: string | null;
  /** The last failure: a contract code and a short reason such as `status 401` or `timed out`. */
  error?: string;
}

/**
 * One provider's model list: discovered from its `/models`, cached, refreshed when stale. A failure keeps the last
 * good list; with an allow-list the allow-list is offered whatever discovery says (it only adds context windows).
 */
export class ProviderModels {
  private readonly logger = new Logger('ModelCatalog');
  private discovered: ModelInfo[] | null = null;
  private expiresAt = 0;
  private inFlight: Promise<void> | null = null;
  private state: Omit<ProviderStatus, 'name' | 'models'> = { status: 'pending', checkedAt: null };
  private failure: AppError | null = null;
  private failures = 0;

  constructor(
    readonly entry: ProviderEntry,
    private readonly now: () => number,
  ) {}

  /** Discovery has never answered, and without an allow-list there is nothing to offer until it does. */
  get mustWait(): boolean {
    return !this.entry.models && this.discovered === null && this.expiresAt <= this.now();
  }

  get stale(): boolean {
    return this.expiresAt <= this.now();
  }

  /** Asks the provider again (concurrent callers share one request); never throws. */
  refresh(): Promise<void> {
    this.inFlight ??= this.discover().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Forget the retry delay: the next `list` asks at once (nothing at all could be offered). */
  retrySoon(): void {
    this.expiresAt = 0;
  }

  /** The models offered now, with the provider's own ids. */
  offered(): ModelInfo[] {
    if (this.entry.provider.demo) {
      return this.discovered ?? [];
    }
    if (!this.entry.models) {
      return this.discovered ?? [];
    }
    return this.entry.models.map((m) => {
      const listed = this.discovered?.find((d) => d.id === m.id);
      return {
        id: m.id,
        name: listed?.name ?? m.id,
        contextWindow: m.contextWindow ?? listed?.contextWindow ?? contextWindowOf(m.id),
      };
    });
  }

  status(): ProviderStatus {
    return { name: this.entry.name, ...this.state, models: this.offered().length };
  }

  /** The last failure as a contract error, for when nothing at all can be offered. */
  lastError(): AppError {
    return this.failure ?? new AppError('upstream_error', 'The model list is unavailable');
  }

  private async discover(): Promise<void> {
    try {
      const models = await this.entry.provider.listModels();
      if (models.length === 0) {
        throw new AppError('upstream_error', 'The model provider offers no models');
      }
      this.discovered = models;
      this.expiresAt = this.now() + MODEL_LIST_TTL_MS;
      this.state = { status: 'ok', checkedAt: new Date(this.now()).toISOString() };
      this.failure = null;
      this.failures = 0;
    } catch (err) {
      // A provider that stays down (or has no /models at all) is asked less and less often, and logged once.
      this.failures += 1;
      this.expiresAt = this.now() + Math.min(MODEL_LIST_TTL_MS, MODEL_LIST_RETRY_MS * 2 ** (this.failures - 1));
      this.failure = err instanceof AppError ? new AppError(err.code, err.message, err.extra) : null;
      const repeated = this.state.status === 'error' && this.state.error === describe(err);
      this.state = { status: 'error', checkedAt: new Date(this.now()).toISOString(), error: describe(err) };
      if (repeated) {
        return;
      }
      const serving = this.entry.models
        ? '; offering its configured models'
        : this.discovered
          ? '; serving its last known list'
          : '';
      this.logger.warn(`Could not list the models of provider "${this.entry.name}" (${describe(err)})${serving}`);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof DescribedUpstreamError) {
    return `${err.code}: ${err.reason}`;
  }
  if (err instanceof AppError) {
    return err.code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}
