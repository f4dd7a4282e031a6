import { accountsOf, type TestAccount } from './auth.fixtures';
import { httpClient, startApp, type TestApp } from '../support/app-harness';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream';
import { openSse, type SseEvent } from '../support/sse';

const KEYS = { openai: 'sk-openai-e2e-0123456789', openrouter: 'sk-or-e2e-0123456789' };
const GATEWAY_SECRET = 'gw-secret-e2e-0123456789';

/**
 * Three fake OpenAI-compatible upstreams (real HTTP, real SSE) configured as three providers, plus a fourth whose
 * address answers nothing, in one server.
 */
describe('Several model providers', () => {
  let openai: FakeUpstream;
  let openrouter: FakeUpstream;
  let ollama: FakeUpstream;
  let app: TestApp;
  let request: ReturnType<typeof httpClient>;
  let alice: TestAccount;

  beforeAll(async () => {
    openai = await startFakeUpstream({ apiKey: KEYS.openai, models: ['gpt-4o-mini', 'o3-mini', 'whisper-1'] });
    openrouter = await startFakeUpstream({
      apiKey: KEYS.openrouter,
      models: [
        { id: 'anthropic/claude-3.5-sonnet', name: 'Anthropic: Claude 3.5 Sonnet', context_length: 200_000 },
        { id: 'deepseek/deepseek-r1', context_length: 163_840 },
      ],
    });
    ollama = await startFakeUpstream({ models: ['llama3.1:8b'] });
    const gone = await startFakeUpstream();
    const goneUrl = gone.baseUrl;
    await gone.close();
    app = await startApp({
      PROVIDERS: 'openai,openrouter,ollama,vllm',
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: KEYS.openai,
      OPENROUTER_BASE_URL: openrouter.baseUrl,
      OPENROUTER_API_KEY: KEYS.openrouter,
      OLLAMA_BASE_URL: ollama.baseUrl,
      OLLAMA_HEADERS: JSON.stringify({ 'X-Gateway-Key': GATEWAY_SECRET }),
      VLLM_BASE_URL: goneUrl,
      VLLM_TIMEOUT: '2s',
      OPENAI_MAX_RETRIES: '0',
      DEFAULT_MODEL: 'openai/gpt-4o-mini',
      APP_URL: 'https://chat.example.com',
      APP_TITLE: 'Confab E2E',
      SIGNUP_RATE_LIMIT: '1000/h',
    });
    request = httpClient(app.url);
    alice = await accountsOf(request).signUp();
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([openai.close(), openrouter.close(), ollama.close()]);
  });
  beforeEach(() => {
    for (const upstream of [openai, openrouter, ollama]) {
      upstream.reset();
    }
  });

  async function chat(model: string, content: string, extra: Record<string, unknown> = {}) {
    const thread = await request('POST', '/threads', {
      token: alice.accessToken,
      body: { title: 'Providers', model, ...extra },
    });
    expect(thread.status).toBe(201);
    const sent = await request('POST', `/threads/${thread.body.id}/messages`, {
      token: alice.accessToken,
      body: { content, temperature: 0.4, maxTokens: 100 },
    });
    return { thread: thread.body, sent };
  }

  it('should list the models of every provider that answers, with their context windows', async () => {
    const res = await request('GET', '/models', { token: alice.accessToken });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      models: [
        { id: 'openai/gpt-4o-mini', name: 'openai/gpt-4o-mini', contextWindow: 128_000 },
        { id: 'openai/o3-mini', name: 'openai/o3-mini', contextWindow: 200_000 },
        {
          id: 'openrouter/anthropic/claude-3.5-sonnet',
          name: 'Anthropic: Claude 3.5 Sonnet',
          contextWindow: 200_000,
        },
        { id: 'openrouter/deepseek/deepseek-r1', name: 'openrouter/deepseek/deepseek-r1', contextWindow: 163_840 },
        { id: 'ollama/llama3.1:8b', name: 'ollama/llama3.1:8b', contextWindow: 131_072 },
      ],
      defaultModel: 'openai/gpt-4o-mini',
      demo: false,
    });
  });

  it('should report each provider in /api/health, the one that is down included, without secrets', async () => {
    // Listing waits for providers that never answered yet, so each has a discovery result to report.
    await request('GET', '/models', { token: alice.accessToken });
    const res = await request('GET', '/health');

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.providers).toEqual([
      { name: 'openai', status: 'ok', models: 2, checkedAt: expect.any(String) },
      { name: 'openrouter', status: 'ok', models: 2, checkedAt: expect.any(String) },
      { name: 'ollama', status: 'ok', models: 1, checkedAt: expect.any(String) },
      {
        name: 'vllm',
        status: 'error',
        models: 0,
        checkedAt: expect.any(String),
        error: 'upstream_error: connection failed',
      },
    ]);
    const text = JSON.stringify(res.body);
    for (const secret of [KEYS.openai, KEYS.openrouter, GATEWAY_SECRET, '127.0.0.1']) {
      expect(text).not.toContain(secret);
    }
  });

  it('should route each chat to its provider with its own key and headers, and store the full model id', async () => {
    const a = await chat('openai/gpt-4o-mini', 'to openai');
    const b = await chat('openrouter/anthropic/claude-3.5-sonnet', 'to openrouter');
    const c = await chat('ollama/llama3.1:8b', 'to ollama');

    for (const [{ thread, sent }, model] of [
      [a, 'openai/gpt-4o-mini'],
      [b, 'openrouter/anthropic/claude-3.5-sonnet'],
      [c, 'ollama/llama3.1:8b'],
    ] as const) {
      expect(sent.status).toBe(201);
      expect(thread.model).toBe(model);
      expect(sent.body.userMessage.model).toBe(model);
      expect(sent.body.assistantMessage).toMatchObject({ model, status: 'complete' });
    }
    expect(a.sent.body.assistantMessage.content).toBe('You said: to openai');
    expect(b.sent.body.assistantMessage.content).toBe('You said: to openrouter');
    expect(c.sent.body.assistantMessage.content).toBe('You said: to ollama');

    const [toOpenai] = openai.chatRequests;
    const [toOpenrouter] = openrouter.chatRequests;
    const [toOllama] = ollama.chatRequests;
    expect([openai, openrouter, ollama].map((u) => u.chatRequests.length)).toEqual([1, 1, 1]);
    expect(toOpenai.body.model).toBe('gpt-4o-mini');
    expect(toOpenai.headers.authorization).toBe(`Bearer ${KEYS.openai}`);
    expect(toOpenai.headers['http-referer']).toBeUndefined();
    expect(toOpenrouter.body.model).toBe('anthropic/claude-3.5-sonnet');
    expect(toOpenrouter.headers.authorization).toBe(`Bearer ${KEYS.openrouter}`);
    expect(toOpenrouter.headers['http-referer']).toBe('https://chat.example.com');
    expect(toOpenrouter.headers['x-title']).toBe('Confab E2E');
    expect(toOllama.body.model).toBe('llama3.1:8b');
    expect(toOllama.headers.authorization).toBeUndefined();
    expect(toOllama.headers['x-gateway-key']).toBe(GATEWAY_SECRET);
  });

  it('should refuse an id without a known provider prefix', async () => {
    const res = await request('POST', '/threads', { token: alice.accessToken, body: { model: 'gpt-4o-mini' } });

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', details: [{ field: 'model' }] });
  });

  it('should send a reasoning model max_completion_tokens and no temperature, and an ordinary one both as given', async () => {
    await chat('openai/o3-mini', 'think', { systemPrompt: 'Be brief.' });
    await chat('openai/gpt-4o-mini', 'plain', { systemPrompt: 'Be brief.' });

    const [reasoning, plain] = openai.chatRequests.map((r) => r.body);
    expect(reasoning).toMatchObject({ model: 'o3-mini', max_completion_tokens: 100 });
    expect(reasoning.messages![0]).toEqual({ role: 'developer', content: 'Be brief.' });
    expect(reasoning).not.toHaveProperty('temperature');
    expect(reasoning).not.toHaveProperty('max_tokens');
    expect(plain).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 100, temperature: 0.4 });
    expect(plain.messages![0]).toEqual({ role: 'system', content: 'Be brief.' });
  });

  it('should keep the other providers usable when one goes down mid-way', async () => {
    ollama.enqueue({ status: 503 });

    const down = await chat('ollama/llama3.1:8b', 'anyone?');
    const up = await chat('openrouter/deepseek/deepseek-r1', 'still there?');

    expect(down.sent.status).toBeGreaterThanOrEqual(500);
    expect(down.sent.body).toMatchObject({ error: 'upstream_error' });
    expect(up.sent.body.assistantMessage).toMatchObject({ status: 'complete', content: 'You said: still there?' });
    const models = await request('GET', '/models', { token: alice.accessToken });
    expect(models.body.models.map((m: { id: string }) => m.id)).toContain('ollama/llama3.1:8b');
  });

  it('should stream reasoning deltas apart from the answer, store them, and never send them back as history', async () => {
    const thread = await request('POST', '/threads', {
      token: alice.accessToken,
      body: { title: 'Thinking', model: 'openrouter/deepseek/deepseek-r1' },
    });
    openrouter.enqueue({
      reasoning: ['The user', ' wants', ' a colour.'],
      reasoningField: 'reasoning',
      tokens: ['Blue', '.'],
      tokenDelayMs: 5,
    });

    const stream = await openSse(`${app.url}/api/threads/${thread.body.id}/messages`, alice.accessToken, {
      content: 'Pick a colour',
    });
    const events = await stream.all();

    const deltas = events.filter((e) => e.event === 'delta').map((e) => e.data as Record<string, unknown>);
    expect(deltas.map((d) => d.seq)).toEqual(deltas.map((_, i) => i + 1));
    const joined = (kind: string | undefined) =>
      deltas
        .filter((d) => d.kind === kind)
        .map((d) => d.delta)
        .join('');
    expect(joined('reasoning')).toBe('The user wants a colour.');
    expect(joined(undefined)).toBe('Blue.');
    expect(deltas.every((d) => d.kind === undefined || d.kind === 'reasoning')).toBe(true);
    // All the thinking comes first here, so every reasoning delta precedes every answer delta.
    expect(deltas.findLastIndex((d) => d.kind === 'reasoning')).toBeLessThan(deltas.findIndex((d) => !d.kind));
    const done = (events.at(-1) as SseEvent).data;
    expect(events.at(-1)?.event).toBe('done');
    expect(done).toMatchObject({ content: 'Blue.', reasoning: 'The user wants a colour.', status: 'complete' });
    const stored = await request('GET', `/threads/${thread.body.id}/messages`, { token: alice.accessToken });
    expect(stored.body.items.map((m: { reasoning: string | null }) => m.reasoning)).toEqual([
      null,
      'The user wants a colour.',
    ]);

    const next = await request('POST', `/threads/${thread.body.id}/messages`, {
      token: alice.accessToken,
      body: { content: 'Why?' },
    });
    expect(next.status).toBe(201);
    const history = openrouter.chatRequests.at(-1)!.body.messages!;
    expect(history.map((m) => m.content)).toEqual(['Pick a colour', 'Blue.', 'Why?']);
    expect(JSON.stringify(openrouter.chatRequests.at(-1)!.body)).not.toContain('wants a colour');
  });
});

describe('A provider that reports no usage', () => {
  let upstream: FakeUpstream;
  let app: TestApp;
  let request: ReturnType<typeof httpClient>;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ models: ['llama3.1:8b'], defaults: { usage: null } });
    app = await startApp({
      PROVIDERS: 'ollama',
      OLLAMA_BASE_URL: upstream.baseUrl,
      USER_DAILY_TOKEN_LIMIT: '40',
      OPENAI_MAX_RETRIES: '0',
    });
    request = httpClient(app.url);
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('should count the reply with the tokenizer, so that the daily quota still holds', async () => {
    const bob = await accountsOf(request).signUp();
    const thread = await request('POST', '/threads', { token: bob.accessToken, body: { title: 'Quota' } });
    expect(thread.body.model).toBe('llama3.1:8b');
    const long = 'Count every one of these words against my daily quota please, all of them, twice over.';

    const first = await request('POST', `/threads/${thread.body.id}/messages`, {
      token: bob.accessToken,
      body: { content: long },
    });

    expect(first.status).toBe(201);
    expect(upstream.chatRequests[0].body.stream_options).toEqual({ include_usage: true });
    const usage = first.body.assistantMessage.usage as { promptTokens: number; completionTokens: number };
    expect(usage.promptTokens).toBeGreaterThan(15);
    expect(usage.completionTokens).toBeGreaterThan(15);
    const me = await request('GET', '/auth/me', { token: bob.accessToken });
    expect(me.body.usage.today.promptTokens + me.body.usage.today.completionTokens).toBeGreaterThanOrEqual(40);
    const refused = await request('POST', `/threads/${thread.body.id}/messages`, {
      token: bob.accessToken,
      body: { content: 'one more?' },
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'quota_exceeded' });
  });
});
