import { type AppConfig, DrainState } from '@app/common';
import { GenerationService } from '@app/chat';
import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

/** Beyond the grace, closing sockets, the HTTP server and the database should take seconds at most. */
const CLOSE_ALLOWANCE_MS = 10_000;

/**
 * The drain after SIGTERM (or SIGINT): readiness turns 503 and new sends get `unavailable` at once (sockets are told
 * with `server:draining`); running replies may finish for SHUTDOWN_GRACE, then are stopped and stored with their
 * partial text; then the app closes (sockets, HTTP server, Redis, database) and the process exits 0. A second
 * signal, or a close that hangs, ends the process at once with exit code 1.
 */
export function drainOnSignals(app: INestApplication, config: AppConfig): void {
  const logger = app.get(Logger);
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) {
      logger.warn(`${signal} again while draining: exiting now`);
      process.exit(1);
    }
    draining = true;
    logger.log(`${signal}: draining (grace ${config.shutdownGraceMs} ms)`);
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + CLOSE_ALLOWANCE_MS).unref();
    drain(app, config).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export async function drain(app: INestApplication, config: AppConfig): Promise<void> {
  app.get(DrainState).begin();
  await app.get(GenerationService).drain(config.shutdownGraceMs);
  await app.close();
}
