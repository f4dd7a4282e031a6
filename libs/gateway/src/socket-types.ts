import type { AuthUser } from '@app/auth';
import type { TokenBucket } from '@app/common';
import type { BroadcastOperator, Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from './socket-events';

/** What the gateway keeps on each authenticated socket. */
export interface SocketData {
  user: AuthUser;
  bucket: TokenBucket;
  /** Gives the socket's slot in its user's connection count back (idempotent). */
  release: () => void;
  /**
   * When the socket's credential expires (ms since the epoch): it is disconnected then, unless `auth:refresh`.
   * Null for an API key that never expires.
   */
  expiresAt: number | null;
  expiry?: NodeJS.Timeout;
}

export type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
/** Where thread events are emitted: one socket, or a room of this instance's sockets. */
export type ThreadEventTarget = ChatSocket | BroadcastOperator<ServerToClientEvents, SocketData>;

export const THREAD_ROOM_PREFIX = 'thread:';
export const threadRoom = (threadId: string) => `${THREAD_ROOM_PREFIX}${threadId}`;
export const USER_ROOM_PREFIX = 'user:';
export const userRoom = (userId: string) => `${USER_ROOM_PREFIX}${userId}`;
