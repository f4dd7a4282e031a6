import { startApp } from '../support/app-harness';
import { type ChatApp, startChatApp } from '../support/chat-fixtures';
import { freePort } from '../support/server-process';
import { connect } from '../support/socket-client';
import { openSse } from '../support/sse';
import type { TestAccount } from './auth.fixtures';

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const PRODUCTION = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) };

/** The value of one series line (`name{labels} value`), or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operations: metrics and liveness', () => {
  let app: ChatApp;
  let alice: TestAccount;

  beforeAll(async () => {
    app = await startChatApp({ METRICS_TOKEN, SSE_PING_INTERVAL: '100ms' });
    alice = await app.signUp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function newThread() {
    return (await app.request('POST', '/threads', { token: alice.accessToken, body: { title: 'Ops' } })).body.id;
  }

  it('should expose the series after a chat, and only with the bearer token', async () => {
    const socket = await connect(app.url, alice.accessToken);
    try {
      app.upstream.enqueue({ tokens: ['Hello', ' there', '!'], tokenDelayMs: 20 });
      const ok = await openSse(`${app.url}/api/threads/${await newThread()}/messages`, alice.accessToken, {
        content: 'hi',
      });
      expect((await ok.all()).at(-1)).toMatchObject({ event: 'done', data: { status: 'complete' } });
      app.upstream.enqueue({ status: 500 });
      const failed = await openSse(`${app.url}/api/threads/${await newThread()}/messages`, alice.accessToken, {
        content: 'fail',
      });
      expect((await failed.all()).at(-1)).toMatchObject({
        event: 'error',
        data: { error: { code: 'upstream_error' } },
      });

      const anonymous = await fetch(`${app.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      const wrong = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      const res = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toMatch(
        /^confab_http_request_duration_seconds_count\{method="POST",route="\/api\/threads\/:id\/messages",status="200"\} [1-9]/m,
      );
      expect(sample(text, 'confab_open_sockets')).toBe(1);
      expect(sample(text, 'confab_active_generations')).toBe(0);
      expect(sample(text, 'confab_tokens_streamed_total{model="gpt-test"}')).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'confab_time_to_first_token_seconds_count{model="gpt-test"}')).toBe(1);
      expect(sample(text, 'confab_upstream_errors_total{code="upstream_error"}')).toBe(1);
      expect(sample(text, 'confab_generations_total{outcome="complete"}')).toBe(1);
      expect(sample(text, 'confab_generations_total{outcome="error"}')).toBe(1);
      expect(sample(text, 'confab_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(text, 'confab_process_resident_memory_bytes')).toBeGreaterThan(0);
      expect(sample(text, 'confab_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
  });

  it('should send `: ping` comments on a silent SSE stream, unbuffered by proxies', async () => {
    // Two tokens, then the model goes silent: only the pings keep the response alive.
    app.upstream.enqueue({ tokens: ['a', 'b', 'c'], stallAfter: 2 });
    const threadId = await newThread();
    const controller = new AbortController();
    const res = await fetch(`${app.url}/api/threads/${threadId}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice.accessToken}`,
        accept: 'text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ content: 'silence' }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('cache-control')).toContain('no-transform');
    let raw = '';
    const decoder = new TextDecoder();
    const reader = res.body!.getReader();
    while ((raw.match(/^: ping\n\n/gm) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      raw += decoder.decode(value, { stream: true });
    }
    expect(raw).toContain('event: delta');
    expect((raw.match(/^: ping\n\n/gm) ?? []).length).toBeGreaterThanOrEqual(2);
    await app.request('POST', `/threads/${threadId}/stop`, { token: alice.accessToken });
    controller.abort();
  });

  it('should document the drain refusal of sends in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${app.url}/api/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    };
    for (const path of ['/api/threads/{id}/messages', '/api/threads/{id}/regenerate']) {
      expect(doc.paths[path].post.responses['503'].description).toContain('shutting down');
    }
  });

  it('should serve no metrics in production without METRICS_TOKEN or METRICS_PORT', async () => {
    const prod = await startApp(PRODUCTION);
    try {
      const res = await fetch(`${prod.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await prod.close();
    }
  });

  it('should serve metrics only on METRICS_PORT when it is set, with the token when one is set', async () => {
    const metricsPort = await freePort();
    const prod = await startApp({ ...PRODUCTION, METRICS_PORT: String(metricsPort), METRICS_TOKEN });
    try {
      const onPublic = await fetch(`${prod.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(onPublic.status).toBe(404);
      const metricsUrl = `http://127.0.0.1:${metricsPort}`;
      expect((await fetch(`${metricsUrl}/metrics`)).status).toBe(401);
      const res = await fetch(`${metricsUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('confab_generations_total');
      expect((await fetch(`${metricsUrl}/api/health`)).status).toBe(404);
    } finally {
      await prod.close();
    }
    // Closed with the app.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });
});
