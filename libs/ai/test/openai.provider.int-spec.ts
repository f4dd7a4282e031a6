import { AppError } from '@app/common';
import { Logger } from '@nestjs/common';
import { type FakeUpstream, startFakeUpstream } from '../../../test/support/fake-upstream';
import type { ChatTurn, CompletionEvent } from '../src/model-provider';
import { OpenAiProvider, type OpenAiProviderOptions } from '../src/openai.provider';
import { TokenCounter } from '../src/token-counter';

const API_KEY = 'sk-test-5ecret-key-that-must-never-leak';
const messages: ChatTurn[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Hi there' },
  { role: 'assistant', content: 'Hello.' },
  { role: 'user', content: 'Tell me a joke' },
];

interface Outcome {
  deltas: string[];
  events: CompletionEvent[];
  error: unknown;
}

/** Drains a stream, calling `onDelta` after each delta (e.g. to abort after the third). */
async function drain(stream: AsyncIterable<CompletionEvent>, onDelta?: (n: number) => void): Promise<Outcome> {
  const outcome: Outcome = { deltas: [], events: [], error: undefined };
  try {
    for await (const event of stream) {
      outcome.events.push(event);
      if (event.type === 'delta') {
        outcome.deltas.push(event.text);
        onDelta?.(outcome.deltas.length);
      }
    }
  } catch (err) {
    outcome.error = err;
  }
  return outcome;
}

function appError(err: unknown): AppError {
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

describe(OpenAiProvider.name, () => {
  let upstream: FakeUpstream;

  beforeAll(() => {
    // The provider logs every failure; these tests provoke them on purpose.
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });

  afterEach(async () => {
    await upstream.close();
  });

  const provider = (options: Partial<OpenAiProviderOptions> = {}) =>
    new OpenAiProvider({
      apiKey: API_KEY,
      baseUrl: upstream.baseUrl,
      timeoutMs: 2_000,
      maxRetries: 2,
      retryBaseDelayMs: 5,
      ...options,
    });

  const run = (p: OpenAiProvider, signal = new AbortController().signal, onDelta?: (n: number) => void) =>
    drain(p.stream({ model: 'gpt-4o-mini', messages, temperature: 0.3, maxTokens: 50, signal }), onDelta);

  it('should stream the deltas in order, then the usage the upstream reported', async () => {
    upstream.enqueue({
      tokens: ['Why', ' did', ' the', ' chicken'],
      usage: { prompt_tokens: 31, completion_tokens: 4 },
    });

    const { deltas, events, error } = await run(provider());

    expect(error).toBeUndefined();
    expect(deltas).toEqual(['Why', ' did', ' the', ' chicken']);
    expect(events.at(-1)).toEqual({ type: 'usage', usage: { promptTokens: 31, completionTokens: 4 } });
    expect(events.filter((e) => e.type === 'usage')).toHaveLength(1);
  });

  it('should send the exact messages, the options and include_usage, with the key as a bearer token', async () => {
    await run(provider());

    expect(upstream.chatRequests).toHaveLength(1);
    const [request] = upstream.chatRequests;
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.body).toMatchObject({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.3,
      max_tokens: 50,
    });
  });

  it('should estimate the usage with the tokenizer when the upstream reports none', async () => {
    upstream.enqueue({ tokens: ['Knock', ' knock', '.'], usage: null });
    const counter = new TokenCounter();

    const { events, error } = await run(provider({ tokenCounter: counter }));

    expect(error).toBeUndefined();
    expect(events.at(-1)).toEqual({
      type: 'usage',
      usage: { promptTokens: counter.countTurns(messages), completionTokens: counter.countText('Knock knock.') },
    });
  });

  it('should end with an AbortError when stopped mid-stream, and really close the upstream connection', async () => {
    upstream.enqueue({ tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), tokenDelayMs: 10 });
    const controller = new AbortController();
    const received = upstream.nextRequest();

    const { deltas, error } = await run(provider(), controller.signal, (n) => n === 3 && controller.abort());

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('AbortError');
    expect(deltas).toEqual([' t0', ' t1', ' t2']);
    const request = await received;
    await upstream.clientClosed(request);
    expect(request.state).toBe('client-closed');
    expect(request.tokenTimes.length).toBeLessThan(200);
  });

  it('should close the upstream connection when the consumer stops iterating', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
    const received = upstream.nextRequest();

    const deltas: string[] = [];
    for await (const event of provider().stream({ model: 'm', messages, signal: new AbortController().signal })) {
      if (event.type === 'delta') {
        deltas.push(event.text);
        break;
      }
    }

    expect(deltas).toEqual(['a']);
    await upstream.clientClosed(await received);
  });

  it('should deliver nothing more after a stop, even when the whole reply was already received', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c', 'd', 'e'] });
    const controller = new AbortController();
    const received = upstream.nextRequest();
    const events = provider().stream({ model: 'm', messages, signal: controller.signal })[Symbol.asyncIterator]();

    expect(await events.next()).toEqual({ value: { type: 'delta', text: 'a' }, done: false });
    // The reader is slow: the rest of the reply, [DONE] included, arrives before it reads again.
    await upstream.settled(await received);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();

    await expect(events.next()).rejects.toMatchObject({ name: 'AbortError' });
    await expect(events.next()).resolves.toEqual({ value: undefined, done: true });
  });

  it('should close the upstream request when the reader leaves before the response headers', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c'], latencyMs: 300 });
    const received = upstream.nextRequest();
    const stream = provider().stream({ model: 'm', messages, signal: new AbortController().signal });
    const events = stream[Symbol.asyncIterator]();
    const pending = events.next();
    const request = await received;

    await events.return!();

    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect((await upstream.settled(request)).state).toBe('client-closed');
  });

  it('should not retry when the reader left during the retry delay', async () => {
    upstream.enqueue({ status: 500 }, { tokens: ['late'] });
    const received = upstream.nextRequest();
    const stream = provider({ retryBaseDelayMs: 300 }).stream({
      model: 'm',
      messages,
      signal: new AbortController().signal,
    });
    const events = stream[Symbol.asyncIterator]();
    const pending = events.next();
    await upstream.settled(await received);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the 500 is in: the provider waits to retry

    await events.return!();
    await new Promise((resolve) => setTimeout(resolve, 500)); // longer than the delay (at most 360 ms)

    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should end with an AbortError at once when stopped during the retry delay, and not retry', async () => {
    upstream.enqueue({ status: 500 }, { tokens: ['late'] });
    const controller = new AbortController();
    const received = upstream.nextRequest();
    const outcome = run(provider({ retryBaseDelayMs: 1_000 }), controller.signal);
    await upstream.settled(await received);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stoppedAt = performance.now();

    controller.abort();
    const { error } = await outcome;

    expect((error as Error).name).toBe('AbortError');
    expect(performance.now() - stoppedAt).toBeLessThan(200);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should end with an AbortError when stopped before the first token, and not retry', async () => {
    upstream.enqueue({ tokens: ['never'], latencyMs: 5_000 });
    const controller = new AbortController();
    const received = upstream.nextRequest();
    const outcome = run(provider(), controller.signal);
    const request = await received;

    controller.abort();
    const { deltas, error } = await outcome;

    expect((error as Error).name).toBe('AbortError');
    expect(deltas).toEqual([]);
    await upstream.clientClosed(request);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should map a 429 to rate_limited with the retry-after seconds, without waiting that long', async () => {
    upstream.enqueue({ status: 429, headers: { 'retry-after': '7' } });

    const { error } = await run(provider());

    const err = appError(error);
    expect(err.code).toBe('rate_limited');
    expect(err.extra.retryAfterSeconds).toBe(7);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should retry a 429 with a short retry-after and then succeed', async () => {
    upstream.enqueue({ status: 429, headers: { 'retry-after': '0' } }, { tokens: ['ok'] });

    const { deltas, error } = await run(provider());

    expect(error).toBeUndefined();
    expect(deltas).toEqual(['ok']);
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('should map a persistent 500 to upstream_error after the configured retries', async () => {
    upstream.script = () => ({ status: 500 });

    const { error, deltas } = await run(provider({ maxRetries: 2 }));

    expect(appError(error).code).toBe('upstream_error');
    expect(deltas).toEqual([]);
    expect(upstream.chatRequests).toHaveLength(3);
  });

  it('should not retry at all with maxRetries 0', async () => {
    upstream.enqueue({ status: 500 }, { tokens: ['late'] });

    const { error } = await run(provider({ maxRetries: 0 }));

    expect(appError(error).code).toBe('upstream_error');
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should retry once after a 500 before the first token and then stream the reply', async () => {
    upstream.enqueue({ status: 500 }, { tokens: ['Second', ' time'] });

    const { deltas, events, error } = await run(provider());

    expect(error).toBeUndefined();
    expect(deltas).toEqual(['Second', ' time']);
    expect(events.at(-1)?.type).toBe('usage');
    expect(upstream.chatRequests).toHaveLength(2);
    expect(upstream.chatRequests[1].body).toEqual(upstream.chatRequests[0].body);
  });

  it('should retry a connection dropped before the first token', async () => {
    upstream.enqueue({ tokens: ['lost'], dropAfter: 0 }, { tokens: ['found'] });

    const { deltas, error } = await run(provider());

    expect(error).toBeUndefined();
    expect(deltas).toEqual(['found']);
    expect(upstream.chatRequests.map((r) => r.state)).toEqual(['dropped', 'completed']);
  });

  it('should deliver the deltas before a mid-stream drop, then fail with upstream_error and never retry', async () => {
    upstream.enqueue({ tokens: ['one', ' two', ' three', ' four', ' five'], dropAfter: 3 }, { tokens: ['retried'] });

    const { deltas, events, error } = await run(provider({ maxRetries: 3 }));

    expect(deltas).toEqual(['one', ' two', ' three']);
    expect(events.some((e) => e.type === 'usage')).toBe(false);
    expect(appError(error).code).toBe('upstream_error');
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should fail with upstream_timeout when the stream stalls, and close the stalled connection', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
    const received = upstream.nextRequest();

    const { deltas, error } = await run(provider({ timeoutMs: 150 }));

    expect(deltas).toEqual(['a', 'b']);
    expect(appError(error).code).toBe('upstream_timeout');
    await upstream.clientClosed(await received);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should give a slow reader every delta in order, without a timeout while it is behind', async () => {
    // 2,000 tokens at once: far more than the provider reads ahead, so it pauses the body (the upstream waits on
    // TCP) while the reader sleeps, each time longer than the idle limit: the wait is the reader's, not a stall.
    const tokens = Array.from({ length: 2_000 }, (_, i) => ` w${i}`);
    upstream.enqueue({ tokens });
    const events: CompletionEvent[] = [];

    let error: unknown;
    try {
      for await (const event of provider({ timeoutMs: 150 }).stream({
        model: 'm',
        messages,
        signal: new AbortController().signal,
      })) {
        events.push(event);
        if (events.length % 500 === 0) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } catch (err) {
      error = err;
    }

    expect(error).toBeUndefined();
    expect(events.filter((e) => e.type === 'delta').map((e) => (e as { text: string }).text)).toEqual(tokens);
    expect(events.at(-1)?.type).toBe('usage');
  });

  it('should fail with upstream_timeout when the response headers do not come in time', async () => {
    upstream.enqueue({ latencyMs: 2_000 });

    const { error } = await run(provider({ timeoutMs: 150, maxRetries: 2 }));

    expect(appError(error).code).toBe('upstream_timeout');
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should fail with upstream_error when the stream ends without a finish reason', async () => {
    upstream.enqueue({ tokens: ['half', ' a'], finishReason: null });

    const { deltas, error } = await run(provider());

    expect(deltas).toEqual(['half', ' a']);
    expect(appError(error).code).toBe('upstream_error');
  });

  it('should map a rejected request (4xx) to upstream_error without retrying', async () => {
    upstream.enqueue({ status: 400 });

    const { error } = await run(provider());

    expect(appError(error)).toMatchObject({
      code: 'upstream_error',
      message: 'The model provider rejected the request',
    });
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('should never put the API key, the base URL or an upstream body into an error', async () => {
    const failures = [
      // What OpenAI answers to a wrong key: a 401 whose body quotes the key.
      {
        status: 401,
        errorBody: { error: { message: `Incorrect API key provided: ${API_KEY}`, code: 'invalid_api_key' } },
      },
      { status: 500, errorBody: { error: { message: `internal: ${API_KEY}` } } },
      { status: 429, headers: { 'retry-after': '60' } },
      { tokens: ['x', 'y'], dropAfter: 1 },
    ];
    const errors: unknown[] = [];
    for (const reply of failures) {
      upstream.enqueue(reply);
      errors.push((await run(provider({ maxRetries: 0 }))).error);
    }
    for (const error of errors) {
      const err = appError(error);
      for (const text of [err.message, String(err), JSON.stringify(err), JSON.stringify(err.extra)]) {
        expect(text).not.toContain(API_KEY);
        expect(text).not.toContain(upstream.url);
        expect(text).not.toContain('Incorrect API key');
        expect(text).not.toContain('internal:');
      }
    }
    expect(errors.map((e) => (e as AppError).code)).toEqual([
      'upstream_error',
      'upstream_error',
      'rate_limited',
      'upstream_error',
    ]);
  });

  it('should list the chat models the upstream offers', async () => {
    upstream.models = ['gpt-4o-mini', 'text-embedding-3-small', 'whisper-1', 'llama3.1:8b', 'my-model'];

    const models = await provider().listModels();

    expect(models).toEqual([
      { id: 'gpt-4o-mini', name: 'gpt-4o-mini', contextWindow: 128_000 },
      { id: 'llama3.1:8b', name: 'llama3.1:8b', contextWindow: 131_072 },
      { id: 'my-model', name: 'my-model', contextWindow: 8192 },
    ]);
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('should map a failed model listing to an AppError', async () => {
    upstream.modelsReply = { status: 503 };

    await expect(provider().listModels()).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('should map a model listing that takes too long to upstream_timeout', async () => {
    upstream.modelsReply = { latencyMs: 2_000 };

    await expect(provider({ timeoutMs: 100 }).listModels()).rejects.toMatchObject({ code: 'upstream_timeout' });
  });

  // The transport of NODE_USE_ENV_PROXY (or of a `fetch` given in the options): its web-stream body flows through
  // the same reader, paused and closed the same way.
  describe('over the built-in fetch', () => {
    const viaFetch = (options: Partial<OpenAiProviderOptions> = {}) =>
      provider({ fetch: globalThis.fetch, ...options });

    it('should stream the deltas in order, then the usage', async () => {
      upstream.enqueue({ tokens: ['over', ' the', ' web'], usage: { prompt_tokens: 7, completion_tokens: 3 } });

      const { deltas, events, error } = await run(viaFetch());

      expect(error).toBeUndefined();
      expect(deltas).toEqual(['over', ' the', ' web']);
      expect(events.at(-1)).toEqual({ type: 'usage', usage: { promptTokens: 7, completionTokens: 3 } });
    });

    it('should give a slow reader every delta, without a timeout while it is behind', async () => {
      const tokens = Array.from({ length: 2_000 }, (_, i) => ` v${i}`);
      upstream.enqueue({ tokens });
      const deltas: string[] = [];

      for await (const event of viaFetch({ timeoutMs: 150 }).stream({
        model: 'm',
        messages,
        signal: new AbortController().signal,
      })) {
        if (event.type === 'delta') {
          deltas.push(event.text);
          if (deltas.length % 500 === 0) {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      }

      expect(deltas).toEqual(tokens);
    });

    it('should end with an AbortError when stopped mid-stream, and close the upstream connection', async () => {
      upstream.enqueue({ tokens: Array.from({ length: 200 }, (_, i) => ` t${i}`), tokenDelayMs: 10 });
      const controller = new AbortController();
      const received = upstream.nextRequest();

      const { deltas, error } = await run(viaFetch(), controller.signal, (n) => n === 3 && controller.abort());

      expect((error as Error).name).toBe('AbortError');
      expect(deltas).toEqual([' t0', ' t1', ' t2']);
      await upstream.clientClosed(await received);
    });

    it('should close the upstream connection when the reader leaves', async () => {
      upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });
      const received = upstream.nextRequest();

      for await (const event of viaFetch().stream({ model: 'm', messages, signal: new AbortController().signal })) {
        if (event.type === 'delta') {
          break;
        }
      }

      await upstream.clientClosed(await received);
    });

    it('should fail with upstream_timeout when the stream stalls', async () => {
      upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], stallAfter: 2 });

      const { deltas, error } = await run(viaFetch({ timeoutMs: 150 }));

      expect(deltas).toEqual(['a', 'b']);
      expect(appError(error).code).toBe('upstream_timeout');
    });
  });
});
