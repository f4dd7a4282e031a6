import { httpClient, startApp, type TestApp } from '../support/app-harness';

describe('HTTP error shape', () => {
  let app: TestApp;
  let request: ReturnType<typeof httpClient>;

  beforeAll(async () => {
    app = await startApp();
    request = httpClient(app.url);
  });
  afterAll(async () => {
    await app.close();
  });

  it('should answer malformed JSON with validation_failed and never echo the body', async () => {
    const res = await request('POST', '/auth/login', { rawBody: '{"email":"ann@x.com","password":hunter2secret}' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'validation_failed',
      message: 'Malformed JSON body',
      details: [],
    });
    expect(JSON.stringify(res.body)).not.toContain('hunter2');
  });

  it('should refuse a body that is not JSON rather than ignore it', async () => {
    const res = await fetch(`${app.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'email=ann@example.com',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ statusCode: 415, error: 'validation_failed' });
  });

  it('should answer a body over the limit with payload_too_large', async () => {
    const res = await request('POST', '/auth/login', { rawBody: JSON.stringify({ email: 'x'.repeat(2_000_000) }) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'payload_too_large' });
  });

  it('should answer unknown routes with not_found in the contract shape', async () => {
    const res = await request('GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'not_found', message: 'Route not found' });
  });

  it('should serve the OpenAPI document generated from the code', async () => {
    const res = await request('GET', '/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/threads', '/api/threads/{id}/messages', '/api/auth/signup', '/api/admin/users']),
    );
  });

  it('should expose Prometheus metrics outside /api', async () => {
    await request('GET', '/health');
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('confab_http_request_duration_seconds');
  });
});

describe('web app hosting', () => {
  it('should serve WEB_DIR at / with index.html for client-side routes, and keep API errors JSON', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'confab-web-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>confab</title>');
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const app = await startApp({ WEB_DIR: dir });
    try {
      const root = await fetch(`${app.url}/`, { headers: { accept: 'text/html' } });
      expect(root.status).toBe(200);
      expect(await root.text()).toContain('<title>confab</title>');
      const asset = await fetch(`${app.url}/app.js`);
      expect(await asset.text()).toBe('console.log(1)');
      const route = await fetch(`${app.url}/threads/abc`, { headers: { accept: 'text/html' } });
      expect(await route.text()).toContain('<title>confab</title>');
      const api = await fetch(`${app.url}/api/nope`, { headers: { accept: 'text/html' } });
      expect(api.status).toBe(404);
      expect(await api.json()).toMatchObject({ error: 'not_found' });
    } finally {
      await app.close();
    }
  });
});
