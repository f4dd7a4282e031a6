import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, register } from 'prom-client';

let histogram: Histogram<'method' | 'route' | 'status'> | undefined;

/** Request durations by route pattern (never the raw path: ids would explode the label set). */
export function httpMetrics() {
  if (!register.getSingleMetric('confab_http_request_duration_seconds')) {
    collectDefaultMetrics({ prefix: 'confab_' });
    histogram = new Histogram({
      name: 'confab_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    });
  }
  return (req: Request, res: Response, next: NextFunction) => {
    const end = histogram?.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end?.({
        method: req.method,
        route: route ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };
}
