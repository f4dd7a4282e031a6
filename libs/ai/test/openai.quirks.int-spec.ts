import { Logger } from '@nestjs/common';
import { type FakeUpstream, startFakeUpstream } from '../../../test/support/fake-upstream';
import type { ChatTurn, CompletionEvent, CompletionRequest } from '../src/model-provider';
import { OpenAiProvider, type OpenAiProviderOptions } from '../src/openai.provider';
import { TokenCounter } from '../src/token-counter';

const messages: ChatTurn[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Why is the sky blue?' },
];

async function collect(stream: AsyncIterable<CompletionEvent>): Promise<CompletionEvent[]> {
  const events: CompletionEvent[] = [];
  for await (const event of stream) {
    events.push(event);
  }
  return events;
}

describe(`${OpenAiProvider.name} (model quirks, reasoning, headers)`, () => {
  let upstream: FakeUpstream;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });
  afterEach(async () => {
    await upstream.close();
  });

  const provider = (options: Partial<OpenAiProviderOptions> = {}) =>
    new OpenAiProvider({ apiKey: 'sk-quirks', baseUrl: upstream.baseUrl, timeoutMs: 2_000, maxRetries: 0, ...options });
  const ask = (p: OpenAiProvider, model: string, extra: Partial<CompletionRequest> = {}) =>
    collect(
      p.stream({
        model,
        messages,
        temperature: 0.3,
        topP: 0.9,
        maxTokens: 64,
        signal: AbortSignal.timeout(5_000),
        ...extra,
      }),
    );

  it('should send a reasoning model max_completion_tokens, no temperature or top_p, the system prompt as developer', async () => {
    await ask(provider(), 'o3-mini');
    await ask(provider(), 'gpt-4o-mini');

    const [reasoning, chat] = upstream.chatRequests.map((r) => r.body);
    expect(reasoning).toMatchObject({
      model: 'o3-mini',
      max_completion_tokens: 64,
      messages: [{ role: 'developer', content: 'You are terse.' }, messages[1]],
    });
    for (const absent of ['max_tokens', 'temperature', 'top_p']) {
      expect(reasoning).not.toHaveProperty(absent);
    }
    expect(chat).toMatchObject({ model: 'gpt-4o-mini', max_tokens: 64, temperature: 0.3, top_p: 0.9, messages });
    expect(chat).not.toHaveProperty('max_completion_tokens');
  });

  it('should let a provider override the known-models table', async () => {
    const p = provider({ quirks: { 'o3-mini': { tokenLimitParam: 'max_tokens', systemRole: 'system' } } });

    await ask(p, 'o3-mini');

    const [body] = upstream.chatRequests.map((r) => r.body);
    expect(body).toMatchObject({ max_tokens: 64, messages });
    expect(body).not.toHaveProperty('temperature');
  });

  it('should retry once without a parameter an upstream 400 names, and never send it to that model again', async () => {
    upstream.script = (body) =>
      body.temperature === undefined
        ? undefined
        : {
            status: 400,
            errorBody: {
              error: {
                message: "Unsupported value: 'temperature' does not support 0.3 with this model.",
                type: 'invalid_request_error',
                param: 'temperature',
                code: 'unsupported_value',
              },
            },
          };
    const p = provider();

    const first = await ask(p, 'house-model');
    const second = await ask(p, 'house-model');
    await ask(p, 'other-model');

    expect(first.filter((e) => e.type === 'delta').length).toBeGreaterThan(0);
    expect(second.filter((e) => e.type === 'delta').length).toBeGreaterThan(0);
    const bodies = upstream.chatRequests.map((r) => r.body);
    expect(bodies.map((b) => [b.model, b.temperature])).toEqual([
      ['house-model', 0.3],
      ['house-model', undefined],
      ['house-model', undefined],
      ['other-model', 0.3],
      ['other-model', undefined],
    ]);
    expect(bodies[1]).toMatchObject({ max_tokens: 64, top_p: 0.9 });
  });

  it('should switch to max_completion_tokens when a 400 message refuses max_tokens, and retry only once', async () => {
    upstream.script = (body) =>
      body.max_tokens !== undefined || body.max_completion_tokens !== undefined
        ? {
            status: 400,
            errorBody: {
              error: {
                message:
                  body.max_tokens !== undefined
                    ? "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead."
                    : "Unsupported parameter: 'max_completion_tokens'.",
              },
            },
          }
        : undefined;

    await expect(ask(provider(), 'new-model')).rejects.toMatchObject({ code: 'upstream_error' });

    expect(upstream.chatRequests.map((r) => [r.body.max_tokens, r.body.max_completion_tokens])).toEqual([
      [64, undefined],
      [undefined, 64],
    ]);
  });

  it('should stream reasoning_content and reasoning apart from the answer, and count both when usage is missing', async () => {
    const counter = new TokenCounter();
    upstream.enqueue(
      { reasoning: ['Rayleigh', ' scattering'], tokens: ['Because', ' of', ' air.'], usage: null },
      { reasoning: ['Short', ' waves'], reasoningField: 'reasoning', tokens: ['Air.'] },
    );
    const p = provider({ tokenCounter: counter });

    const first = await ask(p, 'deepseek-r1');
    const second = await ask(p, 'deepseek-r1');

    expect(first).toEqual([
      { type: 'reasoning', text: 'Rayleigh' },
      { type: 'reasoning', text: ' scattering' },
      { type: 'delta', text: 'Because' },
      { type: 'delta', text: ' of' },
      { type: 'delta', text: ' air.' },
      {
        type: 'usage',
        usage: {
          promptTokens: counter.countTurns(messages),
          completionTokens: counter.countText('Because of air.') + counter.countText('Rayleigh scattering'),
        },
      },
    ]);
    expect(second.filter((e) => e.type === 'reasoning').map((e) => (e as { text: string }).text)).toEqual([
      'Short',
      ' waves',
    ]);
    expect(second.at(-1)).toMatchObject({ type: 'usage', usage: { completionTokens: 3 } });
  });

  it('should send extra headers on every request, and no Authorization header without a key', async () => {
    const p = provider({ apiKey: null, headers: { 'X-Gateway-Key': 'gw-secret', 'X-Title': 'confab' } });

    await ask(p, 'llama3.1:8b');
    await p.listModels();

    expect(upstream.requests).toHaveLength(2);
    for (const request of upstream.requests) {
      expect(request.headers.authorization).toBeUndefined();
      expect(request.headers['x-gateway-key']).toBe('gw-secret');
      expect(request.headers['x-title']).toBe('confab');
    }
  });

  it('should read context windows and names from the model list (context_length, max_model_len)', async () => {
    upstream.models = [
      { id: 'anthropic/claude-3.5-sonnet', name: 'Anthropic: Claude 3.5 Sonnet', context_length: 200_000 },
      { id: 'deepseek/deepseek-r1', context_length: 163_840 },
      { id: 'Qwen/Qwen2.5-7B-Instruct', max_model_len: 32_000 },
      'gpt-4o',
    ];

    expect(await provider().listModels()).toEqual([
      { id: 'Qwen/Qwen2.5-7B-Instruct', name: 'Qwen/Qwen2.5-7B-Instruct', contextWindow: 32_000 },
      { id: 'anthropic/claude-3.5-sonnet', name: 'Anthropic: Claude 3.5 Sonnet', contextWindow: 200_000 },
      { id: 'deepseek/deepseek-r1', name: 'deepseek/deepseek-r1', contextWindow: 163_840 },
      { id: 'gpt-4o', name: 'gpt-4o', contextWindow: 128_000 },
    ]);
  });
});
