import type { AppConfig, ModelQuirksOverride, ModelSpec, ProviderSpec } from '@app/common';
import { Logger } from '@nestjs/common';
import { DemoProvider } from './demo.provider';
import type { ModelProvider } from './model-provider';
import { OpenAiProvider } from './openai.provider';
import type { TokenCounter } from './token-counter';

/** One configured provider: its port, its allow-list, and what may be shown about it (never its key or headers). */
export interface ProviderEntry {
  name: string;
  provider: ModelProvider;
  /** `<NAME>_MODELS` (or MODELS without PROVIDERS): the provider's own ids; null: its list. */
  models: ModelSpec[] | null;
  /** The base URL's host, for log lines (a URL may carry credentials). */
  host: string;
}

/** Where a catalog model id goes: a provider and the id that provider knows. */
export interface Route {
  entry: ProviderEntry;
  model: string;
}

/**
 * The configured providers behind the one `ModelProvider` port. With several, catalog ids are `<provider>/<model>`
 * and `route` splits them; with one (PROVIDERS unset, or a single name) ids are the provider's own.
 */
export class ProviderRegistry {
  constructor(
    readonly entries: readonly ProviderEntry[],
    readonly prefixed = entries.length > 1,
  ) {}

  /** Only the built-in demo provider (no key configured). */
  get demo(): boolean {
    return this.entries.length === 1 && this.entries[0].provider.demo;
  }

  catalogId(entry: ProviderEntry, model: string): string {
    return this.prefixed ? `${entry.name}/${model}` : model;
  }

  route(catalogId: string): Route | null {
    if (!this.prefixed) {
      return { entry: this.entries[0], model: catalogId };
    }
    const slash = catalogId.indexOf('/');
    const entry = slash > 0 ? this.entries.find((e) => e.name === catalogId.slice(0, slash)) : undefined;
    return entry ? { entry, model: catalogId.slice(slash + 1) } : null;
  }
}

// OpenRouter ignores parameters a model does not take and maps max_tokens itself: no OpenAI-specific reshaping.
const OPENROUTER_QUIRKS: Record<string, ModelQuirksOverride> = {
  '*': { tokenLimitParam: 'max_tokens', unsupportedParams: [], systemRole: 'system' },
};

export function isOpenRouter(spec: Pick<ProviderSpec, 'name' | 'baseUrl'>): boolean {
  return spec.name === 'openrouter' || hostOf(spec.baseUrl).endsWith('openrouter.ai');
}

/** Builds the registry from the configuration, logging each provider by name and host only. */
export function createProviderRegistry(config: AppConfig, tokenCounter: TokenCounter): ProviderRegistry {
  const logger = new Logger('AiModule');
  if (!config.providers) {
    if (!config.openaiApiKey) {
      logger.warn('No OPENAI_API_KEY: offering only the built-in demo model');
      return new ProviderRegistry([
        { name: 'demo', provider: new DemoProvider(tokenCounter), models: null, host: 'built-in' },
      ]);
    }
    const host = config.openaiBaseUrl ? hostOf(config.openaiBaseUrl) : 'api.openai.com';
    logger.log(`Model provider: OpenAI-compatible API at ${host}`);
    return new ProviderRegistry([
      { name: 'openai', provider: OpenAiProvider.fromConfig(config, tokenCounter), models: config.models, host },
    ]);
  }
  const entries = config.providers.map((spec): ProviderEntry => {
    const openRouter = isOpenRouter(spec);
    const attribution: Record<string, string> = openRouter
      ? { ...(config.appUrl ? { 'HTTP-Referer': config.appUrl } : {}), 'X-Title': config.appTitle }
      : {};
    const host = hostOf(spec.baseUrl);
    logger.log(`Model provider "${spec.name}": OpenAI-compatible API at ${host}`);
    return {
      name: spec.name,
      host,
      models: spec.models,
      provider: new OpenAiProvider({
        name: spec.name,
        apiKey: spec.apiKey,
        baseUrl: spec.baseUrl,
        headers: { ...attribution, ...spec.headers },
        quirks: openRouter ? { ...OPENROUTER_QUIRKS, ...spec.quirks } : spec.quirks,
        timeoutMs: spec.timeoutMs,
        maxRetries: config.openaiMaxRetries,
        tokenCounter,
      }),
    };
  });
  return new ProviderRegistry(entries);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unknown host';
  }
}
