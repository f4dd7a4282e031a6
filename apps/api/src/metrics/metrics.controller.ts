import { Public } from '@app/auth';
import { APP_CONFIG, type AppConfig, ConfabMetrics } from '@app/common';
import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { checkMetricsAccess, metricsExposure } from './metrics-access';
import { sendMetrics } from './metrics-response';

/** `GET /metrics` on the public port, when `metricsExposure` allows it there (see METRICS_TOKEN, METRICS_PORT). */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: ConfabMetrics,
  ) {}

  @Get()
  async metricsText(@Req() req: Request, @Res() res: Response): Promise<void> {
    const verdict = checkMetricsAccess(
      metricsExposure(this.config, 'app'),
      this.config.metricsToken,
      req.headers.authorization,
    );
    await sendMetrics(res, this.metrics, verdict);
  }
}
