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
      redisCluster: false,
      redisKeyPrefix: 'confab:',
      redisThreadChannels: 'sharded',
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 30 * 86_400_000,
      refreshGraceMs: 10_000,
      openaiApiKey: null,
      models: null,
      userDailyTokenLimit: 0,
      maxReplyChars: 200_000,
      userMaxConcurrent: 3,
      corsOrigins: [],
      trustProxy: 0,
      signupRateLimit: { limit: 10, windowMs: 3_600_000 },
      loginRateLimit: { limit: 10, windowMs: 15 * 60_000 },
      loginMaxDelayMs: 10_000,
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
    expect(
      loadConfig({ DATA_DIR: dataDir(), REDIS_CLUSTER: 'true', REDIS_KEY_PREFIX: 'staging:confab:' }),
    ).toMatchObject({ redisCluster: true, redisKeyPrefix: 'staging:confab:' });
    expect(loadConfig({ DATA_DIR: dataDir(), REFRESH_GRACE: '2500ms' }).refreshGraceMs).toBe(2500);
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT must be an integer/],
    [{ PORT: '70000' }, /^PORT must be an integer/],
    [{ MONGODB_URI: 'http://nope' }, /^MONGODB_URI must be a URL/],
    [{ REDIS_URL: 'localhost:6379' }, /^REDIS_URL must be a URL/],
    [{ REDIS_CLUSTER: 'yes' }, /^REDIS_CLUSTER must be true or false/],
    [{ REDIS_KEY_PREFIX: '{tenant}:' }, /^REDIS_KEY_PREFIX must be 1 to 64 letters/],
    [{ REDIS_THREAD_CHANNELS: 'one' }, /^REDIS_THREAD_CHANNELS must be sharded or single/],
    [{ NODE_ENV: 'production' }, /^JWT_SECRET is required when NODE_ENV=production/],
    [{ JWT_SECRET: 'short' }, /^JWT_SECRET must be at least 32 characters/],
    [{ ACCESS_TOKEN_TTL: 'forever' }, /^ACCESS_TOKEN_TTL must be a duration/],
    [{ LOGIN_RATE_LIMIT: 'lots' }, /^LOGIN_RATE_LIMIT must be a rate/],
    [{ REFRESH_GRACE: '5m' }, /^REFRESH_GRACE must be 0 or a duration up to 60s/],
    [{ LOGIN_MAX_DELAY: 'slow' }, /^LOGIN_MAX_DELAY must be 0 or a duration up to 60s/],
    [{ DELTA_COALESCE: '5s' }, /^DELTA_COALESCE must be 0 or a duration up to 1s such as 250ms \(got "5s"\)/],
    [{ MODELS: 'a:12' }, /^MODELS entries/],
    [{ MODELS: 'a', DEFAULT_MODEL: 'b' }, /^DEFAULT_MODEL "b" is not in MODELS/],
    [{ CORS_ORIGINS: 'not an origin' }, /^CORS_ORIGINS entries/],
  ])('should reject %j with one clear line', (env, message) => {
    const problems = problemsOf(env as Record<string, string>);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('should read the delta coalescing window (DELTA_COALESCE), off by default', () => {
    expect(loadConfig({ DATA_DIR: dataDir() }).deltaCoalesceMs).toBe(0);
    expect(loadConfig({ DATA_DIR: dataDir(), DELTA_COALESCE: '40ms' }).deltaCoalesceMs).toBe(40);
  });

  it('should default and validate the operations settings', () => {
    expect(loadConfig({ DATA_DIR: dataDir() })).toMatchObject({
      shutdownGraceMs: 25_000,
      metricsToken: null,
      metricsPort: null,
      ssePingIntervalMs: 15_000,
    });
    expect(
      loadConfig({ DATA_DIR: dataDir(), SHUTDOWN_GRACE: '40s', METRICS_PORT: '9464', SSE_PING_INTERVAL: '5s' }),
    ).toMatchObject({ shutdownGraceMs: 40_000, metricsPort: 9464, ssePingIntervalMs: 5000 });
    expect(problemsOf({ SHUTDOWN_GRACE: 'soon', METRICS_TOKEN: 'short', METRICS_PORT: '3000' })).toEqual([
      'METRICS_TOKEN must be at least 16 characters long',
      'METRICS_PORT must differ from PORT',
      'SHUTDOWN_GRACE must be a duration such as 15m, 12h or 30d (got "soon")',
    ]);
    expect(problemsOf({ METRICS_PORT: '0' })).toEqual(['METRICS_PORT must be an integer from 1 to 65535 (got "0")']);
  });

  it('should report every problem at once and never echo a connection string', () => {
    const problems = problemsOf({ PORT: 'x', MONGODB_URI: 'postgres://user:s3cret@db/x', NODE_ENV: 'production' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('s3cret');
  });
});

describe('PROVIDERS', () => {
  const env = {
    PROVIDERS: 'openai, openrouter,local-vllm',
    OPENAI_BASE_URL: 'https://api.openai.com/v1',
    OPENAI_API_KEY: 'sk-openai',
    OPENROUTER_BASE_URL: 'https://openrouter.ai/api/v1',
    OPENROUTER_API_KEY: 'sk-or',
    OPENROUTER_MODELS: 'anthropic/claude-3.5-sonnet,meta-llama/llama-3.1-8b-instruct:free:131072',
    LOCAL_VLLM_BASE_URL: 'http://vllm:8000/v1',
    LOCAL_VLLM_HEADERS: '{"X-Team":"research"}',
    LOCAL_VLLM_TIMEOUT: '2m',
    LOCAL_VLLM_QUIRKS: '{"*":{"systemRole":"user","unsupportedParams":["top_p"]}}',
    OPENAI_TIMEOUT: '30s',
    DEFAULT_MODEL: 'openrouter/anthropic/claude-3.5-sonnet',
    APP_URL: 'https://chat.example.com',
  };

  it('should parse each provider from its own variables', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), ...env });

    expect(config.providers).toEqual([
      {
        name: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        apiKey: 'sk-openai',
        models: null,
        headers: {},
        timeoutMs: 30_000,
        quirks: {},
      },
      {
        name: 'openrouter',
        baseUrl: 'https://openrouter.ai/api/v1',
        apiKey: 'sk-or',
        models: [
          { id: 'anthropic/claude-3.5-sonnet', contextWindow: undefined },
          { id: 'meta-llama/llama-3.1-8b-instruct:free', contextWindow: 131072 },
        ],
        headers: {},
        timeoutMs: 30_000,
        quirks: {},
      },
      {
        name: 'local-vllm',
        baseUrl: 'http://vllm:8000/v1',
        apiKey: null,
        models: null,
        headers: { 'X-Team': 'research' },
        timeoutMs: 120_000,
        quirks: { '*': { systemRole: 'user', unsupportedParams: ['top_p'] } },
      },
    ]);
    expect(config).toMatchObject({ appUrl: 'https://chat.example.com', appTitle: 'confab' });
  });

  it('should keep the single OPENAI_* provider when PROVIDERS is unset', () => {
    expect(loadConfig({ DATA_DIR: dataDir(), OPENAI_API_KEY: 'k' }).providers).toBeNull();
  });

  it('should report every provider problem on its own line, never echoing a header value', () => {
    const problems = problemsOf({
      PROVIDERS: 'good,Bad_Name,good,nourl,badjson,notobject,quirky',
      GOOD_BASE_URL: 'http://good/v1',
      BADJSON_BASE_URL: 'http://x/v1',
      BADJSON_HEADERS: '{"Authorization": "Bearer sk-very-secret"',
      NOTOBJECT_BASE_URL: 'ftp://x',
      NOTOBJECT_HEADERS: '["x"]',
      QUIRKY_BASE_URL: 'http://q/v1',
      QUIRKY_QUIRKS: '{"o3":{"tokenLimitParam":"max_length"}}',
      QUIRKY_TIMEOUT: 'soon',
      DEFAULT_MODEL: 'gpt-4o',
      MODELS: 'gpt-4o',
    });

    expect(problems).toEqual([
      expect.stringMatching(/^PROVIDERS names must be lower-case letters, digits and dashes \(got "Bad_Name"\)/),
      'PROVIDERS names "good" twice',
      expect.stringMatching(/^NOURL_BASE_URL is required for provider "nourl"/),
      'BADJSON_HEADERS must be a JSON object (it is not valid JSON)',
      'NOTOBJECT_BASE_URL must be a URL starting with http:// or https://',
      'NOTOBJECT_HEADERS must be a JSON object',
      expect.stringMatching(/^QUIRKY_TIMEOUT must be a duration/),
      expect.stringMatching(/^QUIRKY_QUIRKS "o3": "tokenLimitParam" must be/),
      expect.stringMatching(/^MODELS is not used with PROVIDERS/),
      expect.stringMatching(/^DEFAULT_MODEL must be "<provider>\/<model>" with one of good, nourl, badjson/),
    ]);
    expect(problems.join('\n')).not.toContain('sk-very-secret');
  });

  it('should check DEFAULT_MODEL against the named provider allow-list', () => {
    expect(problemsOf({ ...env, DEFAULT_MODEL: 'openrouter/openai/gpt-4o' })).toEqual([
      'DEFAULT_MODEL "openrouter/openai/gpt-4o" is not in OPENROUTER_MODELS',
    ]);
    const single = loadConfig({
      DATA_DIR: dataDir(),
      PROVIDERS: 'ollama',
      OLLAMA_BASE_URL: 'http://localhost:11434/v1',
      OLLAMA_MODELS: 'llama3.1:8b',
      DEFAULT_MODEL: 'llama3.1:8b',
    });
    expect(single.defaultModel).toBe('llama3.1:8b');
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
