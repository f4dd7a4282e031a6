import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration, parseRate } from './duration';
import { ConfigError, loadConfig } from './load-config';

const dataDir = () => mkdtempSync(join(tmpdir(), 'confab-config-'));
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig({ DATA_DIR: dataDir(), ...env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe(loadConfig.name, () => {
  it('should apply the documented defaults', () => {
    const config = loadConfig({ DATA_DIR: dataDir() });
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      mongodbUri: null,
      redisUrl: null,
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 30 * 86_400_000,
      refreshGraceMs: 10_000,
      openaiApiKey: null,
      models: null,
      userDailyTokenLimit: 0,
      corsOrigins: [],
      trustProxy: 0,
      signupRateLimit: { limit: 10, windowMs: 3_600_000 },
      loginRateLimit: { limit: 10, windowMs: 15 * 60_000 },
      bcryptCost: 12,
    });
  });

  it('should generate a JWT secret once outside production and keep it in DATA_DIR with mode 0600', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwtSecret).toBe(first.jwtSecret);
    const file = join(dir, 'jwt-secret');
    expect(readFileSync(file, 'utf8')).toBe(first.jwtSecret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('should use a given JWT secret and write nothing', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir, JWT_SECRET: 's'.repeat(40) });
    expect(config.jwtSecret).toBe('s'.repeat(40));
    expect(existsSync(join(dir, 'jwt-secret'))).toBe(false);
  });

  it('should parse models, limits and origins', () => {
    const config = loadConfig({
      DATA_DIR: dataDir(),
      MODELS: 'gpt-4o-mini:128000, llama3',
      DEFAULT_MODEL: 'llama3',
      CORS_ORIGINS: 'https://a.example.com,http://localhost:5173',
      SIGNUP_RATE_LIMIT: '3/10m',
      TRUST_PROXY: '1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      MONGODB_URI: 'mongodb+srv://u:p@cluster.example.net/confab',
    });
    expect(config.models).toEqual([
      { id: 'gpt-4o-mini', contextWindow: 128000 },
      { id: 'llama3', contextWindow: undefined },
    ]);
    expect(config.defaultModel).toBe('llama3');
    const colons = loadConfig({
      DATA_DIR: dataDir(),
      MODELS: 'llama3.1:8b,llama3.1:8b:131072,meta-llama/llama-3.1-8b-instruct:free',
    });
    expect(colons.models).toEqual([
      { id: 'llama3.1:8b', contextWindow: undefined },
      { id: 'llama3.1:8b', contextWindow: 131072 },
      { id: 'meta-llama/llama-3.1-8b-instruct:free', contextWindow: undefined },
    ]);
    expect(config.corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(config.signupRateLimit).toEqual({ limit: 3, windowMs: 600_000 });
    expect(config.trustProxy).toBe(1);
    expect(loadConfig({ DATA_DIR: dataDir(), REFRESH_GRACE: '0' }).refreshGraceMs).toBe(0);
    expect(loadConfig({ DATA_DIR: dataDir(), REFRESH_GRACE: '2500ms' }).refreshGraceMs).toBe(2500);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT must be an integer/],
    [{ PORT: '70000' }, /^PORT must be an integer/],
    [{ MONGODB_URI: 'http://nope' }, /^MONGODB_URI must be a URL/],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL must be a URL/],
    [{ NODE_ENV: 'production' }, /^JWT_SECRET is required when NODE_ENV=production/],
    [{ JWT_SECRET: 'short' }, /^JWT_SECRET must be at least 32 characters/],
    [{ ACCESS_TOKEN_TTL: 'forever' }, /^ACCESS_TOKEN_TTL must be a duration/],
    [{ LOGIN_RATE_LIMIT: 'lots' }, /^LOGIN_RATE_LIMIT must be a rate/],
    [{ REFRESH_GRACE: '5m' }, /^REFRESH_GRACE must be 0 or a duration up to 60s/],
    [{ MODELS: 'a:12' }, /^MODELS entries/],
    [{ MODELS: 'a', DEFAULT_MODEL: 'b' }, /^DEFAULT_MODEL "b" is not in MODELS/],
    [{ CORS_ORIGINS: 'not an origin' }, /^CORS_ORIGINS entries/],
  ])('should reject %j with one clear line', (env, message) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('should report every problem at once and never echo a connection string', () => {
    const problems = problemsOf({ PORT: 'x', MONGODB_URI: 'postgres://user:s3cret@db/x', NODE_ENV: 'production' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('s3cret');
  });
});

describe('durations and rates', () => {
  it('should parse units', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('30d')).toBe(2_592_000_000);
    expect(parseDuration('45')).toBe(45_000);
    expect(parseDuration('0s')).toBeNull();
    expect(parseDuration('1y')).toBeNull();
    expect(parseRate('10/h')).toEqual({ limit: 10, windowMs: 3_600_000 });
    expect(parseRate('10/15m')).toEqual({ limit: 10, windowMs: 900_000 });
    expect(parseRate('0/h')).toBeNull();
    expect(parseRate('ten/h')).toBeNull();
  });
});
