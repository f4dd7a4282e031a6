import type { ConfabMetrics } from '@app/common';
import type { NextFunction, Request, Response } from 'express';

/** Request durations by route pattern (never the raw path: ids would explode the label set). */
export function httpMetrics(metrics: ConfabMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      end({
        method: req.method,
        route: route ? `${req.baseUrl}${route}` : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };
}
