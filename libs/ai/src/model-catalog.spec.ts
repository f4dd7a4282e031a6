import { AppError, type AppConfig } from '@app/common';
import { Logger } from '@nestjs/common';
import { DemoProvider } from './demo.provider';
import { MODEL_LIST_RETRY_MS, MODEL_LIST_TTL_MS, ModelCatalog } from './model-catalog';
import { type CompletionEvent, ModelProvider, type ModelInfo } from './model-provider';
import { ProviderRegistry } from './provider-registry';

/** A provider whose model list each test scripts; counts the calls. */
class ScriptedProvider extends ModelProvider {
  readonly demo = false;
  calls = 0;
  answer: () => Promise<ModelInfo[]> = async () => [];

  // eslint-disable-next-line require-yield
  async *stream(): AsyncGenerator<CompletionEvent> {
    throw new Error('not used');
  }

  listModels(): Promise<ModelInfo[]> {
    this.calls++;
    return this.answer();
  }
}

class TestCatalog extends ModelCatalog {
  time = 1_000_000;
  constructor(provider: ModelProvider, appConfig: AppConfig) {
    super(new ProviderRegistry([{ name: 'openai', provider, models: appConfig.models, host: 'h' }]), appConfig);
  }

  protected override now(): number {
    return this.time;
  }
}

const config = (overrides: Partial<AppConfig> = {}) =>
  ({ models: null, defaultModel: null, openaiTimeoutMs: 1_000, ...overrides }) as AppConfig;
const model = (id: string, contextWindow = 8192): ModelInfo => ({ id, name: id, contextWindow });

describe(ModelCatalog.name, () => {
  let provider: ScriptedProvider;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    provider = new ScriptedProvider();
  });

  describe('with MODELS', () => {
    it('should offer exactly those, with their window, a known one or 8192, without waiting for the provider', async () => {
      provider.answer = () => new Promise(() => undefined); // never answers
      const catalog = new TestCatalog(
        provider,
        config({ models: [{ id: 'gpt-4o-mini' }, { id: 'llama3', contextWindow: 32_000 }, { id: 'house-model' }] }),
      );

      expect(await catalog.list()).toEqual({
        models: [model('gpt-4o-mini', 128_000), model('llama3', 32_000), model('house-model', 8192)],
        defaultModel: 'gpt-4o-mini',
        demo: false,
      });
      expect((await catalog.list()).demo).toBe(false);
    });

    it('should take a window the provider lists for a model configured without one', async () => {
      provider.answer = async () => [model('house-model', 65_536), model('other')];
      const catalog = new TestCatalog(
        provider,
        config({ models: [{ id: 'house-model' }, { id: 'llama3', contextWindow: 999 }] }),
      );
      await catalog.refreshStale();

      expect((await catalog.list()).models).toEqual([model('house-model', 65_536), model('llama3', 999)]);
    });

    it('should use DEFAULT_MODEL as the default', async () => {
      const catalog = new TestCatalog(provider, config({ models: [{ id: 'a' }, { id: 'b' }], defaultModel: 'b' }));

      expect((await catalog.list()).defaultModel).toBe('b');
      expect(await catalog.resolve()).toEqual(model('b'));
    });
  });

  describe('without MODELS', () => {
    it('should offer the provider list, cached for five minutes, then refreshed behind the cached answer', async () => {
      provider.answer = async () => [model('m1'), model('m2')];
      const catalog = new TestCatalog(provider, config());

      const first = await catalog.list();
      catalog.time += MODEL_LIST_TTL_MS - 1;
      await catalog.list();
      expect(provider.calls).toBe(1);

      provider.answer = async () => [model('m3')];
      catalog.time += 2;
      const stale = await catalog.list();
      await catalog.refreshStale();
      const refreshed = await catalog.list();

      expect(first).toEqual({ models: [model('m1'), model('m2')], defaultModel: 'm1', demo: false });
      expect(stale).toEqual(first);
      expect(refreshed.models).toEqual([model('m3')]);
      expect(provider.calls).toBe(2);
    });

    it('should let concurrent callers share one request', async () => {
      let release!: (models: ModelInfo[]) => void;
      provider.answer = () => new Promise((resolve) => (release = resolve));
      const catalog = new TestCatalog(provider, config());

      const lists = Promise.all([catalog.list(), catalog.list(), catalog.resolve('m1')]);
      release([model('m1')]);
      const [a, b, resolved] = await lists;

      expect(provider.calls).toBe(1);
      expect(a).toEqual(b);
      expect(resolved).toEqual(model('m1'));
    });

    it('should offer DEFAULT_MODEL first even when the provider does not list it', async () => {
      provider.answer = async () => [model('m1')];
      const catalog = new TestCatalog(provider, config({ defaultModel: 'gpt-4o' }));

      expect(await catalog.list()).toEqual({
        models: [model('gpt-4o', 128_000), model('m1')],
        defaultModel: 'gpt-4o',
        demo: false,
      });
    });

    it('should fall back to the last good list when a refresh fails, and ask again later', async () => {
      provider.answer = async () => [model('m1')];
      const catalog = new TestCatalog(provider, config());
      const good = await catalog.list();

      provider.answer = async () => Promise.reject(new AppError('upstream_error', 'The model provider failed'));
      catalog.time += MODEL_LIST_TTL_MS + 1;
      await catalog.refreshStale();
      expect(await catalog.list()).toEqual(good);
      expect(await catalog.list()).toEqual(good);
      expect(provider.calls).toBe(2);
      expect(catalog.status()).toEqual([
        { name: 'openai', status: 'error', models: 1, checkedAt: expect.any(String), error: 'upstream_error' },
      ]);

      provider.answer = async () => [model('m2')];
      catalog.time += MODEL_LIST_RETRY_MS + 1;
      await catalog.refreshStale();
      expect((await catalog.list()).models).toEqual([model('m2')]);
      expect(provider.calls).toBe(3);
      expect(catalog.status()[0]).toMatchObject({ status: 'ok', models: 1 });
    });

    it('should ask a provider that keeps failing less and less often, up to the five-minute TTL', async () => {
      provider.answer = async () => Promise.reject(new Error('no /models here'));
      const catalog = new TestCatalog(provider, config({ models: [{ id: 'fixed' }] }));
      const askedAfter = async (ms: number) => {
        const before = provider.calls;
        catalog.time += ms;
        await catalog.refreshStale();
        return provider.calls - before;
      };

      expect(await askedAfter(0)).toBe(1);
      expect(await askedAfter(MODEL_LIST_RETRY_MS - 1)).toBe(0);
      expect(await askedAfter(1)).toBe(1);
      expect(await askedAfter(2 * MODEL_LIST_RETRY_MS - 1)).toBe(0);
      expect(await askedAfter(1)).toBe(1);
      for (let i = 0; i < 5; i++) {
        await askedAfter(MODEL_LIST_TTL_MS);
      }
      expect(await askedAfter(MODEL_LIST_TTL_MS - 1)).toBe(0);
      expect(await askedAfter(1)).toBe(1);
      expect((await catalog.list()).models).toEqual([model('fixed')]);
    });

    it('should fall back to DEFAULT_MODEL alone when the first discovery fails', async () => {
      provider.answer = async () => Promise.reject(new Error('connection refused'));
      const catalog = new TestCatalog(provider, config({ defaultModel: 'llama3.1:8b' }));

      expect(await catalog.list()).toEqual({
        models: [model('llama3.1:8b', 131_072)],
        defaultModel: 'llama3.1:8b',
        demo: false,
      });
    });

    it('should treat an empty provider list as a failure', async () => {
      provider.answer = async () => [];
      const catalog = new TestCatalog(provider, config({ defaultModel: 'fallback' }));

      expect((await catalog.list()).models).toEqual([model('fallback')]);
    });

    it('should fail with the provider error when there is nothing to fall back to, and retry on the next call', async () => {
      provider.answer = async () => Promise.reject(new AppError('upstream_timeout', 'slow'));
      const catalog = new TestCatalog(provider, config());

      await expect(catalog.list()).rejects.toMatchObject({ code: 'upstream_timeout' });
      provider.answer = async () => Promise.reject(new Error('boom'));
      await expect(catalog.list()).rejects.toMatchObject({ code: 'upstream_error' });
      expect(provider.calls).toBe(2);
    });
  });

  describe('resolve', () => {
    it('should return the default for no id, the model for an offered id, and reject any other id', async () => {
      const catalog = new TestCatalog(provider, config({ models: [{ id: 'a', contextWindow: 1000 }, { id: 'b' }] }));

      expect(await catalog.resolve()).toEqual(model('a', 1000));
      expect(await catalog.resolve('b')).toEqual(model('b'));
      const err = await catalog.resolve('gpt-nope').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({
        code: 'validation_failed',
        extra: { details: [{ field: 'model', message: 'unknown model' }] },
      });
    });
  });

  describe('with the demo provider', () => {
    it('should offer only the demo model and say so, whatever MODELS says', async () => {
      const catalog = new TestCatalog(
        new DemoProvider(),
        config({ models: [{ id: 'gpt-4o' }], defaultModel: 'gpt-4o' }),
      );

      expect(await catalog.list()).toEqual({
        models: [{ id: 'demo', name: 'Demo (no provider configured)', contextWindow: 8192 }],
        defaultModel: 'demo',
        demo: true,
      });
      expect((await catalog.list()).demo).toBe(true);
      await expect(catalog.resolve('gpt-4o')).rejects.toMatchObject({ code: 'validation_failed' });
    });
  });

  describe('with several providers', () => {
    class MultiCatalog extends ModelCatalog {
      time = 1_000_000;
      protected override now(): number {
        return this.time;
      }
    }
    const entry = (name: string, provider: ModelProvider, models: AppConfig['models'] = null) => ({
      name,
      provider,
      models,
      host: `${name}.example`,
    });

    it('should merge their lists under <provider>/<model> ids, leaving out one that fails and saying which', async () => {
      const a = new ScriptedProvider();
      a.answer = async () => [model('gpt-4o'), model('o3-mini', 200_000)];
      const b = new ScriptedProvider();
      b.answer = async () => Promise.reject(new AppError('upstream_timeout', 'slow'));
      const c = new ScriptedProvider();
      c.answer = async () => [model('ignored')];
      const registry = new ProviderRegistry([
        entry('openai', a),
        entry('local', b),
        entry('fixed', c, [{ id: 'llama3.1:8b' }]),
      ]);
      const catalog = new MultiCatalog(registry, config({ defaultModel: 'openai/o3-mini' }));

      expect(await catalog.list()).toEqual({
        models: [model('openai/gpt-4o'), model('openai/o3-mini', 200_000), model('fixed/llama3.1:8b', 131_072)],
        defaultModel: 'openai/o3-mini',
        demo: false,
      });
      await catalog.refreshStale();
      expect(catalog.status()).toEqual([
        { name: 'openai', status: 'ok', models: 2, checkedAt: expect.any(String) },
        { name: 'local', status: 'error', models: 0, checkedAt: expect.any(String), error: 'upstream_timeout' },
        { name: 'fixed', status: 'ok', models: 1, checkedAt: expect.any(String) },
      ]);
      expect(await catalog.resolve('openai/gpt-4o')).toEqual(model('openai/gpt-4o'));
      await expect(catalog.resolve('gpt-4o')).rejects.toMatchObject({ code: 'validation_failed' });
      expect(registry.route('fixed/llama3.1:8b')).toMatchObject({ entry: { name: 'fixed' }, model: 'llama3.1:8b' });
      expect(registry.route('nowhere/x')).toBeNull();
    });

    it('should fail only when no provider has anything to offer and there is no DEFAULT_MODEL', async () => {
      const a = new ScriptedProvider();
      a.answer = async () => Promise.reject(new Error('refused'));
      const b = new ScriptedProvider();
      b.answer = async () => Promise.reject(new Error('refused'));
      const catalog = new MultiCatalog(new ProviderRegistry([entry('a', a), entry('b', b)]), config());

      await expect(catalog.list()).rejects.toMatchObject({ code: 'upstream_error' });
      b.answer = async () => [model('m')];
      expect((await catalog.list()).models).toEqual([model('b/m')]);
    });
  });
});
