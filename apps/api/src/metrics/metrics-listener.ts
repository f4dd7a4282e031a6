import { APP_CONFIG, type AppConfig, ConfabMetrics } from '@app/common';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type Server } from 'node:http';
import { checkMetricsAccess, metricsExposure } from './metrics-access';
import { sendMetrics } from './metrics-response';

/**
 * With METRICS_PORT, a listener of its own that serves only `GET /metrics`, so the scrape port can stay inside the
 * private network while the public port serves none.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(MetricsListener.name);
  private server: Server | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: ConfabMetrics,
  ) {}

  /** The port it listens on (useful when METRICS_PORT is 0 in tests); null when there is none. */
  get port(): number | null {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { metricsPort, metricsToken, nodeEnv } = this.config;
    if (metricsPort === null) {
      if (nodeEnv === 'production' && !metricsToken) {
        this.logger.warn('metrics are off: set METRICS_TOKEN or METRICS_PORT to serve /metrics');
      }
      return;
    }
    const exposure = metricsExposure(this.config, 'metrics');
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        void sendMetrics(res, this.metrics, { ok: false, status: 404 });
        return;
      }
      void sendMetrics(res, this.metrics, checkMetricsAccess(exposure, metricsToken, req.headers.authorization));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(metricsPort, this.config.host, () => resolve());
    });
    this.server = server;
    this.logger.log(`metrics on port ${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}
