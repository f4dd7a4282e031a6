import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/common';
import { config as readDotenv } from 'dotenv';
import { Logger } from 'nestjs-pino';
import { createApp } from './bootstrap';
import { drainOnSignals } from './shutdown';

async function main(): Promise<void> {
  readDotenv({ quiet: true });
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      // One readable line per problem, never a stack trace.
      for (const problem of err.problems) {
        process.stderr.write(`confab: invalid configuration: ${problem}\n`);
      }
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  drainOnSignals(app, config);
  await app.listen(config.port, config.host);
  const logger = app.get(Logger);
  logger.log(`confab listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`confab: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
