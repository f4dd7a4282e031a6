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
