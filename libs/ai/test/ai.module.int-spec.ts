import 'reflect-metadata';
import { type AppConfig, ConfigModule } from '@app/common';
import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { startFakeUpstream } from '../../../test/support/fake-upstream';
import { AiModule } from '../src/ai.module';
import { DemoProvider } from '../src/demo.provider';
import { ModelCatalog } from '../src/model-catalog';
import { ModelProvider } from '../src/model-provider';
import { OpenAiProvider } from '../src/openai.provider';
import { TokenCounter } from '../src/token-counter';

const baseConfig = {
  openaiApiKey: null,
  openaiBaseUrl: null,
  openaiTimeoutMs: 2_000,
  openaiMaxRetries: 0,
  models: null,
  defaultModel: null,
} as unknown as AppConfig;

let logged: string[] = [];
const record = (message: unknown) => void logged.push(String(message));
const logger: LoggerService = { log: record, warn: record, error: record, debug: record, verbose: record };

async function compile(config: AppConfig) {
  return Test.createTestingModule({ imports: [ConfigModule.forRoot(config), AiModule] })
    .setLogger(logger)
    .compile();
}

describe(AiModule.name, () => {
  beforeEach(() => {
    logged = [];
  });

  it('should provide the demo provider without an API key and say so once', async () => {
    const app = await compile(baseConfig);

    expect(app.get(ModelProvider)).toBeInstanceOf(DemoProvider);
    expect(await app.get(ModelCatalog).list()).toMatchObject({ defaultModel: 'demo', demo: true });
    expect(app.get(TokenCounter).countText('hello world')).toBe(2);
    expect(logged.filter((l) => /demo/i.test(l))).toHaveLength(1);
  });

  it('should provide the OpenAI provider with a key, wired to the catalog, and never log the key', async () => {
    const upstream = await startFakeUpstream({ models: ['gpt-4o-mini'] });
    try {
      const key = 'sk-module-test-key';
      const app = await compile({ ...baseConfig, openaiApiKey: key, openaiBaseUrl: upstream.baseUrl });

      expect(app.get(ModelProvider)).toBeInstanceOf(OpenAiProvider);
      expect(await app.get(ModelCatalog).list()).toEqual({
        models: [{ id: 'gpt-4o-mini', name: 'gpt-4o-mini', contextWindow: 128_000 }],
        defaultModel: 'gpt-4o-mini',
        demo: false,
      });
      expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${key}`);
      expect(logged.some((l) => l.includes(new URL(upstream.url).host))).toBe(true);
      expect(logged.join('\n')).not.toContain(key);
    } finally {
      await upstream.close();
    }
  });
});
