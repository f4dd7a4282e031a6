import { AccountEvents } from '@app/auth';
import { AppError, ConfabMetrics, TokenBucket } from '@app/common';
import { Injectable } from '@nestjs/common';
import { SocketAuthenticator } from './socket-authenticator';
import { type ChatServer, type ChatSocket, userRoom } from './socket-types';

/** Per socket: a burst of 20 events, 5 a second after that (per user: `UserEventRate`, shared with REST sends). */
const SOCKET_RATE = { capacity: 20, perSecond: 5 };
/** Concurrent connections one user may hold on one instance. */
export const MAX_CONNECTIONS_PER_USER = 20;
/** setTimeout's longest delay (about 24.8 days); a later deadline is re-armed when this much has passed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Who is connected here: the handshake's credential (the same checks as HTTP), a slot among the user's connections,
 * the credential's deadline (moved by `auth:refresh`), and the disconnection of revoked sessions' sockets.
 */
@Injectable()
export class SocketConnections {
  private readonly perUser = new Map<string, { sockets: number }>();

  constructor(
    private readonly auth: SocketAuthenticator,
    private readonly accountEvents: AccountEvents,
    private readonly metrics: ConfabMetrics,
  ) {}

  /** Authenticates every handshake of `server` and disconnects revoked sessions' sockets; returns the unsubscribe. */
  watch(server: ChatServer): () => void {
    server.use((socket, next) => {
      void this.admit(socket).then(
        () => next(),
        (err: unknown) =>
          next(new Error(err instanceof AppError && err.code === 'rate_limited' ? 'rate_limited' : 'unauthorized')),
      );
    });
    return this.accountEvents.on((event) => {
      if (event.type !== 'revoked') {
        return;
      }
      for (const socket of this.socketsOf(server, event.userId)) {
        if (event.sessionIds === 'all' || event.sessionIds.includes(socket.data.user.sessionId)) {
          socket.disconnect(true);
        }
      }
    });
  }

  connected(socket: ChatSocket): void {
    this.metrics.openSockets.inc();
    void socket.join(userRoom(socket.data.user.userId));
    this.armExpiry(socket, socket.data.expiresAt);
  }

  /** False for a socket that never finished its handshake. */
  disconnected(socket: ChatSocket): boolean {
    if (!socket.data.user) {
      return false;
    }
    clearTimeout(socket.data.expiry);
    this.metrics.openSockets.dec();
    socket.data.release();
    return true;
  }

  /** Moves the socket to a new access token of the same user; answers the new deadline. */
  async refresh(socket: ChatSocket, token: string): Promise<{ expiresAt: string | null }> {
    const access = await this.auth.verify(token);
    if (access.user.userId !== socket.data.user.userId) {
      throw new AppError('forbidden', 'This token belongs to another account');
    }
    if (!socket.connected) {
      throw new AppError('unauthorized', 'Session expired or revoked');
    }
    socket.data.user = access.user;
    this.armExpiry(socket, access.expiresAt);
    return { expiresAt: access.expiresAt === null ? null : new Date(access.expiresAt).toISOString() };
  }

  /** Throws `unauthorized` (and disconnects) when the credential has expired and its timer has not fired yet. */
  assertLive(socket: ChatSocket): void {
    if (socket.data.expiresAt !== null && Date.now() >= socket.data.expiresAt) {
      // The deadline timer may lag behind a busy event loop; an expired credential is never served meanwhile.
      socket.disconnect(true);
      throw new AppError('unauthorized', 'Access token expired');
    }
  }

  private async admit(socket: ChatSocket): Promise<void> {
    const { user, expiresAt } = await this.auth.handshake(socket.handshake.auth);
    if (socket.conn.readyState !== 'open') {
      // The client left while the token was being checked: Socket.IO drops the socket, so it takes no slot.
      throw new AppError('unauthorized', 'Connection closed');
    }
    const entry = this.perUser.get(user.userId) ?? { sockets: 0 };
    if (entry.sockets >= MAX_CONNECTIONS_PER_USER) {
      throw new AppError('rate_limited', 'Too many connections');
    }
    entry.sockets += 1;
    this.perUser.set(user.userId, entry);
    let released = false;
    const release = () => {
      if (released) {
        return;
      }
      released = true;
      if (--entry.sockets <= 0 && this.perUser.get(user.userId) === entry) {
        this.perUser.delete(user.userId);
      }
    };
    // handleDisconnect runs only for sockets that connected; a connection that closes in between releases here.
    socket.conn.once('close', release);
    socket.data.user = user;
    socket.data.bucket = new TokenBucket(SOCKET_RATE.capacity, SOCKET_RATE.perSecond);
    socket.data.release = release;
    socket.data.expiresAt = expiresAt;
  }

  /** Disconnects the socket when its credential expires (replacing an earlier deadline). */
  private armExpiry(socket: ChatSocket, expiresAt: number | null): void {
    clearTimeout(socket.data.expiry);
    socket.data.expiresAt = expiresAt;
    if (expiresAt === null) {
      return;
    }
    const delay = expiresAt - Date.now();
    if (delay <= 0) {
      socket.disconnect(true);
      return;
    }
    socket.data.expiry = setTimeout(
      () => {
        if (socket.data.expiresAt !== null && Date.now() >= socket.data.expiresAt) {
          socket.disconnect(true);
        } else {
          this.armExpiry(socket, socket.data.expiresAt);
        }
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    // A pending deadline does not keep a closing process alive.
    socket.data.expiry.unref();
  }

  private socketsOf(server: ChatServer, userId: string): ChatSocket[] {
    const ids = server.sockets.adapter.rooms.get(userRoom(userId)) ?? new Set<string>();
    return [...ids].map((id) => server.sockets.sockets.get(id)).filter((s): s is ChatSocket => s !== undefined);
  }
}
