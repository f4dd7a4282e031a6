import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { AppConfig } from './app-config';
import { parseDuration, parseRate } from './duration';
import { parseModelSpecs } from './model-specs';
import { checkDefaultModel, parseProviders } from './providers-config';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.join('\n')}`);
  }
}

const NODE_ENVS = ['development', 'production', 'test'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Parses and validates the environment into an `AppConfig`. Every problem is collected (not just the first)
 * and reported as one readable line each. Outside production a missing JWT_SECRET is generated once and kept
 * in DATA_DIR (mode 0600) so that restarts keep everyone signed in.
 */
export function loadConfig(env: Env, cwd = process.cwd()): AppConfig {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) {
      return fallback;
    }
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const duration = (name: string, fallback: string): number => {
    const raw = str(name) ?? fallback;
    const ms = parseDuration(raw);
    if (ms === null) {
      problems.push(`${name} must be a duration such as 15m, 12h or 30d (got "${raw}")`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  };
  /** A duration from 0 to `maxMs`; `0` alone (no unit) turns the feature off. */
  const boundedDuration = (name: string, fallback: string, maxMs: number): number => {
    const raw = str(name) ?? fallback;
    const ms = raw === '0' ? 0 : parseDuration(raw);
    if (ms === null || ms > maxMs) {
      // The example is within the bound (`DELTA_COALESCE` takes at most 1s: "such as 10s" would contradict it).
      const example = maxMs >= 10_000 ? '10s' : `${maxMs / 4}ms`;
      problems.push(`${name} must be 0 or a duration up to ${maxMs / 1000}s such as ${example} (got "${raw}")`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  };
  const rate = (name: string, fallback: string) => {
    const raw = str(name) ?? fallback;
    const parsed = parseRate(raw);
    if (!parsed) {
      problems.push(`${name} must be a rate such as 10/h or 10/15m (got "${raw}")`);
      return parseRate(fallback)!;
    }
    return parsed;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) {
      return fallback;
    }
    if (raw !== 'true' && raw !== 'false') {
      problems.push(`${name} must be true or false (got "${raw}")`);
      return fallback;
    }
    return raw === 'true';
  };
  const url = (name: string, protocols: string[]): string | null => {
    const raw = str(name);
    if (raw === undefined) {
      return null;
    }
    let ok: boolean;
    try {
      const u = new URL(raw);
      ok = protocols.includes(u.protocol) && u.host !== '';
    } catch {
      ok = false;
    }
    if (!ok) {
      // Never echo the value: connection strings carry passwords.
      problems.push(`${name} must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
      return null;
    }
    return raw;
  };

  const nodeEnvRaw = str('NODE_ENV') ?? 'development';
  if (!(NODE_ENVS as readonly string[]).includes(nodeEnvRaw)) {
    problems.push(`NODE_ENV must be one of ${NODE_ENVS.join(', ')} (got "${nodeEnvRaw}")`);
  }
  const nodeEnv = (NODE_ENVS as readonly string[]).includes(nodeEnvRaw)
    ? (nodeEnvRaw as AppConfig['nodeEnv'])
    : 'development';

  const port = int('PORT', 3000, 0, 65535);
  const host = str('HOST') ?? '0.0.0.0';
  const dataDirRaw = str('DATA_DIR') ?? './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const mongodbUri = url('MONGODB_URI', ['mongodb:', 'mongodb+srv:']);
  const redisUrl = url('REDIS_URL', ['redis:', 'rediss:']);
  const redisCluster = bool('REDIS_CLUSTER', false);
  const redisKeyPrefix = str('REDIS_KEY_PREFIX') ?? 'confab:';
  const redisThreadChannels = str('REDIS_THREAD_CHANNELS') ?? 'sharded';
  if (redisThreadChannels !== 'sharded' && redisThreadChannels !== 'single') {
    problems.push(`REDIS_THREAD_CHANNELS must be sharded or single (got "${redisThreadChannels}")`);
  }
  // A brace would make the prefix the hash tag of every key, sending all of them to one cluster slot.
  if (!/^[A-Za-z0-9:._-]{1,64}$/.test(redisKeyPrefix)) {
    problems.push(
      `REDIS_KEY_PREFIX must be 1 to 64 letters, digits or ":._-" (no braces or spaces; got "${redisKeyPrefix}")`,
    );
  }
  const openaiBaseUrl = url('OPENAI_BASE_URL', ['http:', 'https:']);

  const models = parseModelSpecs('MODELS', str('MODELS'), problems);
  const defaultModel = str('DEFAULT_MODEL') ?? null;
  const openaiTimeoutMs = duration('OPENAI_TIMEOUT', '60s');
  const providers = parseProviders(env, { timeoutMs: openaiTimeoutMs }, problems);
  if (providers && models) {
    problems.push("MODELS is not used with PROVIDERS: list each provider's models in <NAME>_MODELS");
  }
  if (defaultModel && providers) {
    checkDefaultModel(defaultModel, providers, problems);
  } else if (defaultModel && models && !models.some((m) => m.id === defaultModel)) {
    problems.push(`DEFAULT_MODEL "${defaultModel}" is not in MODELS`);
  }
  const appUrl = url('APP_URL', ['http:', 'https:']);

  const corsOrigins = (str('CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS entries must look like https://chat.example.com (got "${origin}")`);
    }
  }

  const logLevel = str('LOG_LEVEL') ?? (nodeEnv === 'test' ? 'warn' : 'info');
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const jwtSecret = str('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters long');
  }
  if (jwtSecret === undefined && nodeEnv === 'production') {
    problems.push('JWT_SECRET is required when NODE_ENV=production (for example: openssl rand -hex 32)');
  }

  const metricsToken = str('METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 16) {
    problems.push('METRICS_TOKEN must be at least 16 characters long');
  }
  const metricsPort = str('METRICS_PORT') === undefined ? null : int('METRICS_PORT', 0, 1, 65535);
  if (metricsPort !== null && metricsPort === port) {
    problems.push('METRICS_PORT must differ from PORT');
  }

  const config: AppConfig = {
    nodeEnv,
    port,
    host,
    dataDir,
    mongodbUri,
    redisUrl,
    redisCluster,
    redisKeyPrefix,
    redisThreadChannels: redisThreadChannels === 'single' ? 'single' : 'sharded',
    jwtSecret: jwtSecret ?? '',
    accessTokenTtlMs: duration('ACCESS_TOKEN_TTL', '15m'),
    refreshTokenTtlMs: duration('REFRESH_TOKEN_TTL', '30d'),
    refreshGraceMs: boundedDuration('REFRESH_GRACE', '10s', 60_000),
    bcryptCost: int('BCRYPT_COST', 12, 4, 15),
    openaiApiKey: str('OPENAI_API_KEY') ?? null,
    openaiBaseUrl,
    openaiTimeoutMs,
    openaiMaxRetries: int('OPENAI_MAX_RETRIES', 2, 0, 10),
    models,
    providers,
    appUrl,
    appTitle: str('APP_TITLE') ?? 'confab',
    defaultModel,
    userDailyTokenLimit: int('USER_DAILY_TOKEN_LIMIT', 0, 0, Number.MAX_SAFE_INTEGER),
    maxReplyChars: int('MAX_REPLY_CHARS', 200_000, 1_000, 10_000_000),
    userMaxConcurrent: int('USER_MAX_CONCURRENT', 3, 1, 1000),
    deltaCoalesceMs: boundedDuration('DELTA_COALESCE', '0', 1_000),
    corsOrigins,
    trustProxy: int('TRUST_PROXY', 0, 0, 10),
    signupRateLimit: rate('SIGNUP_RATE_LIMIT', '10/h'),
    loginRateLimit: rate('LOGIN_RATE_LIMIT', '10/15m'),
    loginMaxDelayMs: boundedDuration('LOGIN_MAX_DELAY', '10s', 60_000),
    logLevel,
    webDir: webDirOf(str('WEB_DIR'), cwd),
    shutdownGraceMs: duration('SHUTDOWN_GRACE', '25s'),
    metricsToken,
    metricsPort,
    ssePingIntervalMs: duration('SSE_PING_INTERVAL', '15s'),
  };
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  if (jwtSecret === undefined) {
    try {
      config.jwtSecret = persistedSecret(dataDir);
    } catch (err) {
      throw new ConfigError([
        `DATA_DIR ${dataDir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ]);
    }
  }
  return config;
}

/** WEB_DIR, or the web app's build output when it exists; null when there is nothing to serve. */
function webDirOf(raw: string | undefined, cwd: string): string | null {
  const dir = raw === undefined ? resolve(cwd, 'apps/web/dist') : isAbsolute(raw) ? raw : resolve(cwd, raw);
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

function persistedSecret(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'jwt-secret');
  if (!existsSync(file)) {
    // Write aside, then link into place: link() fails if another process won the race, and then we read theirs.
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(tmp, randomBytes(48).toString('base64url'), { mode: 0o600 });
    try {
      linkSync(tmp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw err;
      }
    } finally {
      unlinkSync(tmp);
    }
  }
  return readFileSync(file, 'utf8').trim();
}
