import type { ModelQuirksOverride, ProviderSpec } from './app-config';
import { parseDuration } from './duration';
import { parseModelSpecs } from './model-specs';

type Env = Record<string, string | undefined>;

const NAME = /^[a-z0-9][a-z0-9-]*$/;
// RFC 9110 token characters: what a header name may hold.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_LIMIT_PARAMS = ['max_tokens', 'max_completion_tokens'];
const SAMPLING_PARAMS = ['temperature', 'top_p'];
const SYSTEM_ROLES = ['system', 'developer', 'user'];

/** `openrouter` -> `OPENROUTER`, `local-vllm` -> `LOCAL_VLLM`: the prefix of a provider's variables. */
export function providerEnvPrefix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/**
 * PROVIDERS and each provider's `<NAME>_BASE_URL`, `_API_KEY`, `_MODELS`, `_HEADERS`, `_TIMEOUT`, `_QUIRKS`.
 * Null when PROVIDERS is unset (the single provider of OPENAI_*). Problems are pushed one line each and never
 * echo a key, a header value or a base URL (they may carry credentials).
 */
export function parseProviders(env: Env, defaults: { timeoutMs: number }, problems: string[]): ProviderSpec[] | null {
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const raw = str('PROVIDERS');
  if (raw === undefined) {
    return null;
  }
  const names = raw
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (names.length === 0) {
    problems.push('PROVIDERS must name at least one provider, e.g. PROVIDERS=openai,openrouter');
    return null;
  }
  const seen = new Set<string>();
  const specs: ProviderSpec[] = [];
  for (const name of names) {
    if (!NAME.test(name)) {
      problems.push(`PROVIDERS names must be lower-case letters, digits and dashes (got "${name}")`);
      continue;
    }
    if (seen.has(name)) {
      problems.push(`PROVIDERS names "${name}" twice`);
      continue;
    }
    seen.add(name);
    const prefix = providerEnvPrefix(name);
    const baseUrl = str(`${prefix}_BASE_URL`);
    if (baseUrl === undefined) {
      problems.push(
        `${prefix}_BASE_URL is required for provider "${name}" (its OpenAI-compatible endpoint, e.g. http://ollama:11434/v1)`,
      );
    } else if (!isHttpUrl(baseUrl)) {
      problems.push(`${prefix}_BASE_URL must be a URL starting with http:// or https://`);
    }
    const timeoutRaw = str(`${prefix}_TIMEOUT`);
    const timeoutMs = timeoutRaw === undefined ? defaults.timeoutMs : parseDuration(timeoutRaw);
    if (timeoutMs === null) {
      problems.push(`${prefix}_TIMEOUT must be a duration such as 30s or 2m (got "${timeoutRaw}")`);
    }
    specs.push({
      name,
      baseUrl: baseUrl ?? '',
      apiKey: str(`${prefix}_API_KEY`) ?? null,
      models: parseModelSpecs(`${prefix}_MODELS`, str(`${prefix}_MODELS`), problems),
      headers: parseHeaders(`${prefix}_HEADERS`, str(`${prefix}_HEADERS`), problems),
      timeoutMs: timeoutMs ?? defaults.timeoutMs,
      quirks: parseQuirks(`${prefix}_QUIRKS`, str(`${prefix}_QUIRKS`), problems),
    });
  }
  return specs;
}

/** DEFAULT_MODEL with PROVIDERS: `<provider>/<model>` with several, a bare id with one; in the allow-list if any. */
export function checkDefaultModel(defaultModel: string, providers: ProviderSpec[], problems: string[]): void {
  let provider: ProviderSpec | undefined;
  let model = defaultModel;
  if (providers.length === 1) {
    provider = providers[0];
  } else {
    const slash = defaultModel.indexOf('/');
    provider = slash > 0 ? providers.find((p) => p.name === defaultModel.slice(0, slash)) : undefined;
    model = defaultModel.slice(slash + 1);
    if (!provider) {
      problems.push(
        `DEFAULT_MODEL must be "<provider>/<model>" with one of ${providers.map((p) => p.name).join(', ')} (got "${defaultModel}")`,
      );
      return;
    }
  }
  if (provider.models && !provider.models.some((m) => m.id === model)) {
    problems.push(`DEFAULT_MODEL "${defaultModel}" is not in ${providerEnvPrefix(provider.name)}_MODELS`);
  }
}

function isHttpUrl(raw: string): boolean {
  try {
    const u = new URL(raw);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

function parseJsonObject(name: string, raw: string, problems: string[]): Record<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // Never echo the text: it may hold a key.
    problems.push(`${name} must be a JSON object (it is not valid JSON)`);
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${name} must be a JSON object`);
    return null;
  }
  return parsed as Record<string, unknown>;
}

function parseHeaders(name: string, raw: string | undefined, problems: string[]): Record<string, string> {
  const parsed = raw === undefined ? null : parseJsonObject(name, raw, problems);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed ?? {})) {
    if (!HEADER_NAME.test(key)) {
      problems.push(`${name} has an invalid header name "${key.slice(0, 60)}"`);
    } else if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      problems.push(`${name}: the value of "${key}" must be a string on one line`);
    } else {
      headers[key] = value;
    }
  }
  return headers;
}

function parseQuirks(name: string, raw: string | undefined, problems: string[]): Record<string, ModelQuirksOverride> {
  const parsed = raw === undefined ? null : parseJsonObject(name, raw, problems);
  const quirks: Record<string, ModelQuirksOverride> = {};
  for (const [model, value] of Object.entries(parsed ?? {})) {
    const where = `${name} "${model}"`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${where} must be an object such as {"tokenLimitParam":"max_completion_tokens"}`);
      continue;
    }
    const override: ModelQuirksOverride = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'tokenLimitParam' && typeof v === 'string' && TOKEN_LIMIT_PARAMS.includes(v)) {
        override.tokenLimitParam = v as ModelQuirksOverride['tokenLimitParam'];
      } else if (key === 'systemRole' && typeof v === 'string' && SYSTEM_ROLES.includes(v)) {
        override.systemRole = v as ModelQuirksOverride['systemRole'];
      } else if (
        key === 'unsupportedParams' &&
        Array.isArray(v) &&
        v.every((p) => typeof p === 'string' && SAMPLING_PARAMS.includes(p))
      ) {
        override.unsupportedParams = v as ModelQuirksOverride['unsupportedParams'];
      } else {
        problems.push(
          `${where}: "${key}" must be tokenLimitParam (${TOKEN_LIMIT_PARAMS.join('|')}), ` +
            `unsupportedParams (a list of ${SAMPLING_PARAMS.join(', ')}) or systemRole (${SYSTEM_ROLES.join('|')})`,
        );
      }
    }
    quirks[model] = override;
  }
  return quirks;
}
