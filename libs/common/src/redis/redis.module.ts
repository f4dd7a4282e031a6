import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export interface ConnectionOptions {
  /**
   * A subscriber connection: its (un)subscribe commands wait for the connection however long it takes (offline
   * queue, unlimited retries), since a subscription that failed once is never renewed on reconnect.
   */
  subscriber?: boolean;
}

/**
 * The Redis connections when REDIS_URL is set, or `enabled: false`. Commands fail fast while Redis is down
 * (no offline queue) so callers can fall back to process-local behaviour; ioredis keeps reconnecting.
 * Subscriber connections (`{ subscriber: true }`) are the exception.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly clients: Redis[] = [];
  readonly enabled: boolean;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.enabled = config.redisUrl !== null;
  }

  /**
   * Opens the shared connection at boot and waits briefly for it, so the first commands (a health check, a rate
   * limit, a lock) do not fail just because the connection was still being made. A Redis that is down does not
   * stop the start: the instance serves on, degraded, and reconnects.
   */
  async onModuleInit(): Promise<void> {
    if (!this.enabled || this.client.status === 'ready') {
      return;
    }
    const client = this.client;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 3000);
      function done() {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      }
      client.once('ready', done);
    });
  }

  /** A new connection (a subscriber needs its own). Only call when `enabled`. */
  create(name: string, { subscriber = false }: ConnectionOptions = {}): Redis {
    if (!this.config.redisUrl) {
      throw new Error('REDIS_URL is not set');
    }
    const client = new Redis(this.config.redisUrl, {
      connectionName: `confab-${name}`,
      enableOfflineQueue: subscriber,
      maxRetriesPerRequest: subscriber ? null : 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    let healthy = true;
    client.on('error', (err: Error) => {
      if (healthy) {
        // Log once per outage, not on every reconnect attempt; never log the URL (it may hold a password).
        this.logger.warn(`Redis connection "${name}" failed: ${err.message}`);
        healthy = false;
      }
    });
    client.on('ready', () => {
      if (!healthy) {
        this.logger.log(`Redis connection "${name}" recovered`);
      }
      healthy = true;
    });
    this.clients.push(client);
    return client;
  }

  private shared?: Redis;

  /** The shared command connection. */
  get client(): Redis {
    this.shared ??= this.create('cmd');
    return this.shared;
  }

  async ping(): Promise<'disabled' | 'ok' | 'error'> {
    if (!this.enabled) {
      return 'disabled';
    }
    try {
      return (await this.client.ping()) === 'PONG' ? 'ok' : 'error';
    } catch {
      return 'error';
    }
  }

  onApplicationShutdown(): void {
    for (const client of this.clients) {
      client.disconnect();
    }
  }
}

@Global()
@Module({ providers: [RedisConnections], exports: [RedisConnections] })
export class RedisModule {}
