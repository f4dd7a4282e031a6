import type { AppConfig } from '@app/common';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
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
 * unset), a packet size cap, a JSON depth limit. No Redis adapter: every instance relays thread events to its own
 * sockets from the ordered thread event bus, and account events disconnect each instance's own sockets, so no room
 * operation needs to span instances (a cross-instance adapter would only add Redis traffic and connections).
 */
export class ConfabIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const origins = this.config.corsOrigins;
    return super.createIOServer(port, {
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
    }) as Server;
  }
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
