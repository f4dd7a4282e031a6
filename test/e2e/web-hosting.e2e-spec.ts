import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST_LOAD_BUDGET_BYTES, firstLoadOf } from '../../apps/web/build/first-load';
import { startApp, type TestApp } from '../support/app-harness';
import { WEB_DIR } from '../support/web-harness';

/** A raw GET that does not decompress, so that the encoding the server chose can be seen. */
function rawGet(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }>(
    (resolve, reject) => {
      const req = httpRequest(url, { headers }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

describe('web app hosting: caching, compression, CSP', () => {
  let app: TestApp;
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'confab-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><title>confab</title><script type="module" src="/assets/app-abc123.js"></script>',
    );
    writeFileSync(join(dir, 'assets/app-abc123.js'), script);
    app = await startApp({ WEB_DIR: dir });
  });
  afterAll(async () => {
    await app.close();
  });

  it('should cache hashed assets for a year and revalidate index.html and client routes', async () => {
    const asset = await rawGet(`${app.url}/assets/app-abc123.js`);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const path of ['/', '/t/0123456789abcdef01234567', '/index.html']) {
      const page = await rawGet(`${app.url}${path}`, { accept: 'text/html' });
      expect([path, page.status, page.headers['cache-control']]).toEqual([path, 200, 'no-cache']);
    }
  });

  it('should send static assets gzip-compressed to a client that accepts it', async () => {
    const gz = await rawGet(`${app.url}/assets/app-abc123.js`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.bytes).toBeLessThan(script.length / 10);
    const plain = await rawGet(`${app.url}/assets/app-abc123.js`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.bytes).toBe(script.length);
  });

  it('should send a strict Content-Security-Policy with the app and the API, without inline script', async () => {
    for (const path of ['/', '/api/health']) {
      const res = await fetch(`${app.url}${path}`, { headers: { accept: 'text/html' } });
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
    }
  });

  it('should keep Swagger UI working under the policy: external scripts only, inline styles allowed there alone', async () => {
    const res = await fetch(`${app.url}/api/docs/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const inlineScripts = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].filter((m) =>
      m[1].trim(),
    );
    expect(inlineScripts).toEqual([]);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
  });

  it('should leave the API, /v1 and metrics to the server: not compressed by the static middleware, never index.html', async () => {
    const res = await rawGet(`${app.url}/api/health`, { 'accept-encoding': 'gzip' });
    expect(res.headers['content-encoding']).toBeUndefined();
    for (const path of ['/v1/models', '/metrics', '/api/nope']) {
      const other = await rawGet(`${app.url}${path}`, { accept: '*/*', 'accept-encoding': 'gzip' });
      expect([path, String(other.headers['content-type']).startsWith('text/html')]).toEqual([path, false]);
      expect(other.headers['content-encoding']).toBeUndefined();
    }
  });
});

describe('web app bundle', () => {
  it(`should keep first-load JavaScript within ${FIRST_LOAD_BUDGET_BYTES / 1024} kB gzip`, () => {
    const { gzipBytes, files } = firstLoadOf(WEB_DIR);
    expect(files.length).toBeGreaterThan(0);
    expect(gzipBytes).toBeGreaterThan(10_000);
    expect(gzipBytes).toBeLessThanOrEqual(FIRST_LOAD_BUDGET_BYTES);
  });
});
