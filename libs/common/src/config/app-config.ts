import type { RateLimit } from './duration';

export interface ModelSpec {
  id: string;
  contextWindow?: number;
}

/** The whole configuration, parsed and validated once at boot (see `loadConfig`). */
export interface AppConfig {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  mongodbUri: string | null;
  redisUrl: string | null;
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
  defaultModel: string | null;
  userDailyTokenLimit: number;
  corsOrigins: string[];
  trustProxy: number;
  signupRateLimit: RateLimit;
  loginRateLimit: RateLimit;
  logLevel: string;
  webDir: string | null;
}

/** Injection token for the parsed configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
