import type { AppConfig, RedisConnections } from '@app/common';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';

/** The largest socket packet accepted: room for the longest valid message with JSON escaping. */
export const MAX_SOCKET_PAYLOAD_BYTES = 1_000_000;

/**
 * Socket.IO server options for every gateway: CORS for the handshake from CORS_ORIGINS (same origin only when
 * unset), a packet size cap, and with REDIS_URL the Redis pub/sub adapter so room operations (emits,
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
      pingInterval: 20_000,
      pingTimeout: 20_000,
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
      server.adapter(
        createAdapter(this.redis.create('io-pub'), this.redis.create('io-sub'), { requestsTimeout: 2000 }),
      );
    }
    return server;
  }
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
