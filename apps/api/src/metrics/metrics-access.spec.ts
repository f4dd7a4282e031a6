import { loadConfig } from '@app/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMetricsAccess, hasMetricsToken, metricsExposure } from './metrics-access';

const config = (env: Record<string, string>) =>
  loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'confab-metrics-')), JWT_SECRET: 's'.repeat(32), ...env });
const TOKEN = 'a-metrics-token-of-some-length';

describe(metricsExposure.name, () => {
  it.each([
    ['development, nothing set', {}, 'public', 'public'],
    ['production, nothing set', { NODE_ENV: 'production' }, 'off', 'public'],
    ['production with a token', { NODE_ENV: 'production', METRICS_TOKEN: TOKEN }, 'token', 'token'],
    ['production with a port', { NODE_ENV: 'production', METRICS_PORT: '9464' }, 'off', 'public'],
    ['a port and a token', { METRICS_PORT: '9464', METRICS_TOKEN: TOKEN }, 'off', 'token'],
  ])('should decide for %s', (_case, env, app, metricsListener) => {
    expect(metricsExposure(config(env), 'app')).toBe(app);
    expect(metricsExposure(config(env), 'metrics')).toBe(metricsListener);
  });
});

describe(checkMetricsAccess.name, () => {
  it('should require exactly the bearer token', () => {
    expect(checkMetricsAccess('token', TOKEN, `Bearer ${TOKEN}`)).toEqual({ ok: true });
    for (const header of [undefined, '', TOKEN, `Bearer ${TOKEN} `, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`]) {
      expect(checkMetricsAccess('token', TOKEN, header)).toEqual({ ok: false, status: 401 });
    }
    expect(checkMetricsAccess('off', TOKEN, `Bearer ${TOKEN}`)).toEqual({ ok: false, status: 404 });
    expect(checkMetricsAccess('public', null, undefined)).toEqual({ ok: true });
    expect(hasMetricsToken('Bearer é', 'e')).toBe(false);
  });
});
