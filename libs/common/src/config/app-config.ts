import type { RateLimit } from './duration';

export interface ModelSpec {
  id: string;
  contextWindow?: number;
}

/** Request fields a model may reject; a known-models entry or a provider override says which to leave out. */
export type SamplingParam = 'temperature' | 'top_p';

/** How a model wants its request shaped (see libs/ai known-models); every field optional in an override. */
export interface ModelQuirksOverride {
  /** The request field that carries the reply limit. */
  tokenLimitParam?: 'max_tokens' | 'max_completion_tokens';
  /** Sampling parameters never sent to the model. */
  unsupportedParams?: SamplingParam[];
  /** The role the system prompt is sent as. */
  systemRole?: 'system' | 'developer' | 'user';
}

/** One entry of PROVIDERS with its `<NAME>_*` variables. */
export interface ProviderSpec {
  /** Lower-case letters, digits and dashes; the prefix of its model ids when there are several providers. */
  name: string;
  baseUrl: string;
  apiKey: string | null;
  /** `<NAME>_MODELS`: exactly these models (ids as the provider knows them); null: the provider's list. */
  models: ModelSpec[] | null;
  /** `<NAME>_HEADERS`: extra request headers (may carry secrets: never logged or reported). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** `<NAME>_QUIRKS`: model id prefix (or `*`) -> how to shape requests, over the known-models table. */
  quirks: Record<string, ModelQuirksOverride>;
}

/** The whole configuration, parsed and validated once at boot (see `loadConfig`). */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  mongodbUri: string | null;
  redisUrl: string | null;
  /** REDIS_URL names a seed node of a Redis Cluster (ElastiCache cluster mode or Serverless). */
  redisCluster: boolean;
  /** Starts every Redis key and channel name, so deployments can share one Redis. */
  redisKeyPrefix: string;
  /**
   * `sharded`: a Redis channel per thread, subscribed by an instance only while it follows the thread; `single`:
   * every thread event on one channel every instance receives (the earlier design, bench:scale's baseline).
   */
  redisThreadChannels: 'sharded' | 'single';
  jwtSecret: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  /** How long a spent refresh token still answers with its successor (parallel refreshes); 0 turns it off. */
  refreshGraceMs: number;
  bcryptCost: number;
  openaiApiKey: string | null;
  openaiBaseUrl: string | null;
  openaiTimeoutMs: number;
  openaiMaxRetries: number;
  models: ModelSpec[] | null;
  /** PROVIDERS with their settings; null: the single provider of OPENAI_API_KEY / OPENAI_BASE_URL / MODELS. */
  providers: ProviderSpec[] | null;
  /** APP_URL and APP_TITLE: OpenRouter's attribution headers (`HTTP-Referer`, `X-Title`). */
  appUrl: string | null;
  appTitle: string;
  defaultModel: string | null;
  userDailyTokenLimit: number;
  /** A reply longer than this (characters) is cut, its upstream request aborted and it is stored as `error`. */
  maxReplyChars: number;
  /** Replies one user may have generating at once (across instances with REDIS_URL). */
  userMaxConcurrent: number;
  /**
   * DELTA_COALESCE: a reply's deltas arriving within this long of its previous delta event are sent as one (the
   * first never waits); 0: only those of the same I/O turn.
   */
  deltaCoalesceMs: number;
  corsOrigins: string[];
  trustProxy: number;
  signupRateLimit: RateLimit;
  loginRateLimit: RateLimit;
  /** The longest an attempt on an account under attack waits before its password is checked; 0: never. */
  loginMaxDelayMs: number;
  logLevel: string;
  webDir: string | null;
  /** After SIGTERM, how long running replies may finish before they are stopped and stored as they are. */
  shutdownGraceMs: number;
  /** Bearer token `/metrics` requires; null: none (then in production metrics are served only on `metricsPort`). */
  metricsToken: string | null;
  /** A separate listener for `/metrics` only (kept off the public port); null: none. */
  metricsPort: number | null;
  /** How often SSE responses send a `: ping` comment so proxies and load balancers keep them open. */
  ssePingIntervalMs: number;
}

/** Injection token for the parsed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
