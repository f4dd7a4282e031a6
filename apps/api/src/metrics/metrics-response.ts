import type { ConfabMetrics } from '@app/common';
import type { ServerResponse } from 'node:http';
import type { MetricsVerdict } from './metrics-access';

/** Writes the metrics text, or the contract's error shape (the same on the public port and METRICS_PORT). */
export async function sendMetrics(res: ServerResponse, metrics: ConfabMetrics, verdict: MetricsVerdict): Promise<void> {
  if (!verdict.ok) {
    const body =
      verdict.status === 401
        ? { statusCode: 401, error: 'unauthorized', message: 'Metrics require Authorization: Bearer <METRICS_TOKEN>' }
        : { statusCode: 404, error: 'not_found', message: 'Route not found' };
    if (verdict.status === 401) {
      res.setHeader('WWW-Authenticate', 'Bearer');
    }
    res.writeHead(verdict.status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
    return;
  }
  const text = await metrics.registry.metrics();
  res.writeHead(200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  res.end(text);
}
