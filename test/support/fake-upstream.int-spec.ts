import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { echoTokens, type FakeUpstream, startFakeUpstream } from './fake-upstream';

const chat = (upstream: FakeUpstream, body: Record<string, unknown>, init: RequestInit = {}) =>
  fetch(`${upstream.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello fake world' }], ...body }),
    ...init,
  });

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): string[] {
  expect(text.endsWith('\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });
}

describe('FakeUpstream', () => {
  let upstream: FakeUpstream;

  beforeEach(async () => {
    upstream = await startFakeUpstream();
  });

  afterEach(async () => {
    await upstream.close();
  });

  it('should stream chat.completion.chunk events, a finish chunk, a usage chunk and [DONE]', async () => {
    upstream.enqueue({ tokens: ['Hel', 'lo'], usage: { prompt_tokens: 9, completion_tokens: 2 } });

    const res = await chat(upstream, { stream: true, stream_options: { include_usage: true } });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'gpt-4o-mini')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hel' },
      { content: 'lo' },
      {},
      undefined,
    ]);
    expect(chunks[3].choices[0].finish_reason).toBe('stop');
    expect(chunks[4]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    });
    expect(upstream.chatRequests[0].tokenTimes).toHaveLength(2);
    expect(upstream.firstTokenTimes).toEqual([upstream.chatRequests[0].tokenTimes[0]]);
    expect(upstream.chatRequests[0].tokenTimes[0]).toBeGreaterThanOrEqual(upstream.chatRequests[0].receivedAt);
  });

  it('should accept scripted replies over HTTP, for a fake in another process', async () => {
    const queued = await fetch(`${upstream.url}/__fake/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ status: 503 }, { tokens: ['queued'] }]),
    });
    expect(await queued.json()).toEqual({ queued: 2 });

    expect((await chat(upstream, {})).status).toBe(503);
    expect(await (await chat(upstream, {})).json()).toMatchObject({ choices: [{ message: { content: 'queued' } }] });
  });

  it('should send no usage chunk without stream_options.include_usage', async () => {
    const res = await chat(upstream, { stream: true });

    const chunks = sseData(await res.text())
      .slice(0, -1)
      .map((d) => JSON.parse(d));
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
  });

  it('should answer a non-streaming request with one chat.completion echoing the last user message', async () => {
    const res = await chat(upstream, {
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second  message' },
      ],
    });

    const body = await res.json();
    expect(body).toMatchObject({
      object: 'chat.completion',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'You said: second message' }, finish_reason: 'stop' },
      ],
      usage: { completion_tokens: echoTokens('second message').length },
    });
  });

  it('should record requests and announce them', async () => {
    const next = upstream.nextRequest();

    await (await chat(upstream, { stream: true, temperature: 0.5 })).text();

    const request = await next;
    expect(request).toMatchObject({ id: 1, method: 'POST', path: '/v1/chat/completions', state: 'completed' });
    expect(request.headers.authorization).toBe('Bearer k');
    expect(request.body).toMatchObject({ stream: true, temperature: 0.5 });
    expect(upstream.requests).toEqual([request]);
  });

  it('should answer scripted errors with their status, headers and an OpenAI-style body', async () => {
    upstream.script = (body) => (body.model === 'busy' ? { status: 429, headers: { 'retry-after': '3' } } : undefined);

    const busy = await chat(upstream, { model: 'busy', stream: true });
    const fine = await chat(upstream, { stream: false });

    expect(busy.status).toBe(429);
    expect(busy.headers.get('retry-after')).toBe('3');
    expect(await busy.json()).toMatchObject({ error: { code: 'rate_limit_exceeded', type: 'requests' } });
    expect(fine.status).toBe(200);
  });

  it('should play queued replies before the script, in order', async () => {
    upstream.script = () => ({ tokens: ['scripted'] });
    upstream.enqueue({ tokens: ['first'] }, { status: 500 });

    const contents = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(upstream, {});
      const body = res.ok ? ((await res.json()) as { choices: Array<{ message: { content: string } }> }) : null;
      contents.push(body ? body.choices[0].message.content : res.status);
    }

    expect(contents).toEqual(['first', 500, 'scripted']);
  });

  it('should destroy the socket after dropAfter tokens', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c', 'd'], dropAfter: 2 });

    const res = await chat(upstream, { stream: true });

    await expect(res.text()).rejects.toThrow();
    expect(upstream.chatRequests[0]).toMatchObject({ state: 'dropped' });
    expect(upstream.chatRequests[0].tokenTimes).toHaveLength(2);
    expect(upstream.firstTokenTimes).toEqual([upstream.chatRequests[0].tokenTimes[0]]);
    expect(upstream.chatRequests[0].tokenTimes[0]).toBeGreaterThanOrEqual(upstream.chatRequests[0].receivedAt);
  });

  it('should accept scripted replies over HTTP, for a fake in another process', async () => {
    const queued = await fetch(`${upstream.url}/__fake/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ status: 503 }, { tokens: ['queued'] }]),
    });
    expect(await queued.json()).toEqual({ queued: 2 });

    expect((await chat(upstream, {})).status).toBe(503);
    expect(await (await chat(upstream, {})).json()).toMatchObject({ choices: [{ message: { content: 'queued' } }] });
  });

  it('should keep a stalled stream open and report when the client closes it', async () => {
    upstream.enqueue({ tokens: ['a', 'b', 'c'], stallAfter: 1 });
    const controller = new AbortController();

    const res = await chat(upstream, { stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('"a"')) {
      received += decoder.decode((await reader.read()).value);
    }
    expect(upstream.chatRequests[0].state).toBe('stalled');
    controller.abort();

    await upstream.clientClosed(upstream.chatRequests[0]);
    expect(upstream.chatRequests[0].state).toBe('client-closed');
  });

  it('should destroy stalled connections on close', async () => {
    upstream.enqueue({ tokens: ['a'], stallAfter: 0 });
    const res = await chat(upstream, { stream: true });
    const body = res.text();

    await upstream.close();

    await expect(body).rejects.toThrow();
  });

  it('should answer like OpenAI to a wrong key when it requires one', async () => {
    await upstream.close();
    upstream = await startFakeUpstream({ apiKey: 'right-key' });

    const res = await chat(upstream, {});

    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({
      error: {
        code: 'invalid_api_key',
        message: expect.stringContaining('Incorrect API key provided: k.'),
      },
    });
  });

  it('should list its models', async () => {
    upstream.models = ['a-model', 'b-model'];

    const res = await fetch(`${upstream.baseUrl}/models`);

    expect(await res.json()).toEqual({
      object: 'list',
      data: [
        { id: 'a-model', object: 'model', created: 1_700_000_000, owned_by: 'fake' },
        { id: 'b-model', object: 'model', created: 1_700_000_000, owned_by: 'fake' },
      ],
    });
  });
});

describe('fake-upstream.main', () => {
  it('should start in its own process, print its base URL first and serve the configured token count', async () => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', 'test/support/fake-upstream.main.ts', '--tokens', '5', '--delay', '1'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const baseUrl = (await lines.next()).value as string;
      expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);

      const res = await fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }),
      });
      const deltas = (await res.text()).match(/"delta":\{"content":"[^"]+"\}/g);
      expect(deltas).toHaveLength(5);

      const statsUrl = `${baseUrl.replace(/\/v1$/, '')}/__fake/stats`;
      const stats = (await (await fetch(statsUrl)).json()) as ReturnType<FakeUpstream['stats']>;
      expect(stats.chat).toHaveLength(1);
      expect(stats.chat[0].tokenTimes).toHaveLength(5);
      expect(BigInt(stats.chat[0].tokenTimes[0])).toBeGreaterThan(BigInt(stats.chat[0].receivedAt));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 20_000);
});
