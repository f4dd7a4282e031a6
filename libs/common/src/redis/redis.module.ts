import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/** A connection to one Redis server or to a Redis Cluster: the same commands, routed by key slot in a cluster. */
export type RedisClient = Redis | Cluster;

/**
 * `{id}`: the hash tag that puts every key (and sharded channel) named with it into one cluster slot, so that a
 * MULTI or a script over them works on a Redis Cluster (keys of different slots fail with CROSSSLOT).
 */
export const hashTag = (id: string): string => `{${id}}`;

export interface ConnectionOptions {
  /**
   * A subscriber connection: its (un)subscribe commands wait for the connection however long it takes (offline
   * queue, unlimited retries), since a subscription that failed once is never renewed on reconnect.
   */
  subscriber?: boolean;
  /** In a cluster: one subscriber connection per master for SSUBSCRIBE, each channel on the node owning its slot. */
  sharded?: boolean;
}

/**
 * The Redis connections when REDIS_URL is set, or `enabled: false`. Commands fail fast while Redis is down
 * (no offline queue) so callers can fall back to process-local behaviour; ioredis keeps reconnecting.
 * Subscriber connections (`{ subscriber: true }`) are the exception.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly clients: RedisClient[] = [];
  readonly enabled: boolean;
  /** REDIS_URL is a node of a Redis Cluster. */
  readonly cluster: boolean;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.enabled = config.redisUrl !== null;
    this.cluster = config.redisCluster ?? false;
    this.prefix = config.redisKeyPrefix ?? 'confab:';
  }

  /** A key or channel name of this deployment: REDIS_KEY_PREFIX + `name`. */
  key(name: string): string {
    return this.prefix + name;
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
  create(name: string, { subscriber = false, sharded = false }: ConnectionOptions = {}): RedisClient {
    if (!this.config.redisUrl) {
      throw new Error('REDIS_URL is not set');
    }
    const redisOptions: RedisOptions = {
      connectionName: `confab-${name}`,
      enableOfflineQueue: subscriber,
      maxRetriesPerRequest: subscriber ? null : 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    };
    const client = this.cluster
      ? this.createCluster(this.config.redisUrl, redisOptions, sharded)
      : new Redis(this.config.redisUrl, redisOptions);
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

  private createCluster(url: string, redisOptions: RedisOptions, sharded: boolean): Cluster {
    const seed = new URL(url);
    return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
      redisOptions: {
        ...redisOptions,
        username: seed.username ? decodeURIComponent(seed.username) : undefined,
        password: seed.password ? decodeURIComponent(seed.password) : undefined,
        tls: seed.protocol === 'rediss:' ? {} : undefined,
      },
      enableOfflineQueue: redisOptions.enableOfflineQueue,
      shardedSubscribers: sharded,
      clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
      // ElastiCache with TLS: connect to the names the nodes announce, so certificates match.
      dnsLookup: (address, callback) => callback(null, address),
    });
  }

  private shared?: RedisClient;

  /** The shared command connection. */
  get client(): RedisClient {
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
