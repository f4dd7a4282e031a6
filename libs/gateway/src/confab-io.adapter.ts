import type { AppConfig, RedisConnections } from '@app/common';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Server, ServerOptions } from 'socket.io';
import { depthLimitedParser } from './depth-limited-parser';

/** The largest socket packet accepted: room for the longest valid message with JSON escaping. */
export const MAX_SOCKET_PAYLOAD_BYTES = 1_000_000;
/**
 * Engine.IO heartbeat: a ping every 20 s, and a connection is dropped after 20 s without the pong. Every proxy on
 * the way must allow longer silences than the interval (AWS ALB idle timeout, nginx proxy_read_timeout).
 */
export const SOCKET_PING_INTERVAL_MS = 20_000;
export const SOCKET_PING_TIMEOUT_MS = 20_000;

/**
 * Socket.IO server options for every gateway: CORS for the handshake from CORS_ORIGINS (same origin only when
 * unset), a packet size cap, a JSON depth limit, and with REDIS_URL the Redis pub/sub adapter so room operations (emits,
 * disconnects, fetchSockets) span every instance. The pub/sub adapter was chosen over the streams adapter:
 * resume is done by the application (in-flight snapshot + seq), so the streams adapter's connection-state recovery
 * would only add latency and Redis memory.
 */
export class ConfabIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
    private readonly redis: RedisConnections,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = this.config.corsOrigins;
    const server = super.createIOServer(port, {
      ...(options as ServerOptions),
      serveClient: false,
      path: '/socket.io',
      maxHttpBufferSize: MAX_SOCKET_PAYLOAD_BYTES,
      parser: depthLimitedParser,
      pingInterval: SOCKET_PING_INTERVAL_MS,
      pingTimeout: SOCKET_PING_TIMEOUT_MS,
      cors: origins.length > 0 ? { origin: origins.includes('*') ? true : origins, credentials: false } : undefined,
      allowRequest: (req, callback) => {
        // Same origin only unless CORS_ORIGINS says otherwise; non-browser clients send no Origin.
        const origin = req.headers.origin;
        if (!origin || origins.includes('*') || origins.includes(origin) || isSameOrigin(origin, req.headers.host)) {
          callback(null, true);
        } else {
          callback('origin not allowed', false);
        }
      },
    });
    if (this.redis.enabled) {
      const pub = outageTolerant(this.redis.create('io-pub'));
      const sub = outageTolerant(this.redis.create('io-sub'));
      server.adapter(createAdapter(pub, sub, { requestsTimeout: 2000 }));
    }
    return server;
  }
}

/**
 * The Redis adapter fires commands without handling their failure (`publish`, `psubscribe`, `unsubscribe` on close),
 * and while Redis is down they fail at once: each would be an unhandled rejection, which ends the process. The client
 * is handed over with every promise it returns marked as handled (callers that await still see the rejection); the
 * failure itself is logged by the connection, which reconnects and resubscribes by itself.
 */
function outageTolerant(client: Redis): Redis {
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') {
        return value;
      }
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          result.catch(() => undefined);
        }
        return result;
      };
    },
  });
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
