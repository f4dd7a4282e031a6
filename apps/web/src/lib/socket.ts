import { io, type Socket } from 'socket.io-client';
import { refreshSession } from './api-client';
import { ApiError } from './api-error';
import { session } from './session';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

type Ack<T> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };
type JoinHandler = (ack: unknown) => void;

/**
 * The one Socket.IO connection of the app. Its handshake reads the current access token every time it connects,
 * so a reconnect after a refresh uses the new one; a refused token is refreshed once and the connection retried.
 * Rooms the app joined are joined again after every reconnect, and each join's ack (the reply so far) goes back
 * to whoever joined, so a stream picks up where it was.
 */
class SocketClient {
  private socket: Socket | null = null;
  private state: ConnectionState = 'connecting';
  private readonly stateListeners = new Set<() => void>();
  private readonly rooms = new Map<string, Set<JoinHandler>>();
  private readonly eventHandlers = new Map<string, Set<(...args: unknown[]) => void>>();
  private lastHandshakeToken: string | null = null;

  constructor() {
    // The server disconnects a socket when its token expires unless it hears of the renewed one.
    session.subscribe(() => this.renewCredential());
  }

  connect(): Socket {
    if (this.socket) {
      return this.socket;
    }
    const socket = io({
      path: '/socket.io',
      transports: ['websocket', 'polling'],
      auth: (cb) => {
        this.lastHandshakeToken = session.get()?.accessToken ?? null;
        cb({ token: this.lastHandshakeToken ?? '' });
      },
    });
    this.socket = socket;
    socket.on('connect', () => {
      this.setState('connected');
      for (const threadId of this.rooms.keys()) {
        void this.sendJoin(threadId);
      }
    });
    socket.on('disconnect', (reason) => {
      this.setState('reconnecting');
      if (reason === 'io server disconnect') {
        // The server ended this session's sockets (sign-out elsewhere, disabled account): ask whether it lives.
        void this.reauthenticate();
      }
    });
    socket.on('connect_error', (err) => {
      this.setState('reconnecting');
      if (err.message === 'unauthorized') {
        void this.reauthenticate();
      }
    });
    for (const [event, handlers] of this.eventHandlers) {
      for (const handler of handlers) {
        socket.on(event, handler);
      }
    }
    return socket;
  }

  disconnect(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.rooms.clear();
    this.setState('connecting');
  }

  /** Hands a refreshed access token to the live connection (`auth:refresh`), so it is not cut at the old expiry. */
  private renewCredential(): void {
    const token = session.get()?.accessToken ?? null;
    const socket = this.socket;
    if (!socket?.connected || !token || token === this.lastHandshakeToken) {
      return;
    }
    this.lastHandshakeToken = token;
    socket.timeout(15_000).emit('auth:refresh', { token }, (err: unknown, ack?: { ok: boolean }) => {
      if (err || !ack?.ok) {
        // Refused (revoked meanwhile) or no answer: reconnect, which checks the session from scratch.
        socket.disconnect().connect();
      }
    });
  }

  private async reauthenticate(): Promise<void> {
    const renewed = await refreshSession(this.lastHandshakeToken);
    if (renewed && this.socket && !this.socket.connected) {
      this.socket.connect();
    }
  }

  getState = (): ConnectionState => this.state;

  subscribeState = (fn: () => void): (() => void) => {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  };

  private setState(state: ConnectionState): void {
    if (this.state !== state) {
      this.state = state;
      this.stateListeners.forEach((fn) => fn());
    }
  }

  on<T>(event: string, handler: (payload: T) => void): () => void {
    const handlers = this.eventHandlers.get(event) ?? new Set();
    handlers.add(handler as (...args: unknown[]) => void);
    this.eventHandlers.set(event, handlers);
    this.socket?.on(event, handler);
    return () => {
      handlers.delete(handler as (...args: unknown[]) => void);
      this.socket?.off(event, handler);
    };
  }

  /** Emits with an ack; a refused ack becomes an ApiError with the contract's code. */
  async request<T>(event: string, payload: object, timeoutMs = 15_000): Promise<T> {
    const socket = this.connect();
    let ack: Ack<T>;
    try {
      ack = (await socket.timeout(timeoutMs).emitWithAck(event, payload)) as Ack<T>;
    } catch {
      throw new ApiError(0, 'network', 'The server did not answer. Check your connection and try again.');
    }
    if (!ack.ok) {
      throw new ApiError(0, ack.error.code, ack.error.message);
    }
    return ack;
  }

  /** Joins a thread's room (again after every reconnect); `onJoined` gets each join's ack. */
  join(threadId: string, onJoined: JoinHandler): () => void {
    const handlers = this.rooms.get(threadId) ?? new Set();
    const first = handlers.size === 0;
    handlers.add(onJoined);
    this.rooms.set(threadId, handlers);
    if (first) {
      void this.sendJoin(threadId);
    }
    return () => {
      handlers.delete(onJoined);
      if (handlers.size === 0 && this.rooms.get(threadId) === handlers) {
        this.rooms.delete(threadId);
        if (this.socket?.connected) {
          this.socket.emit('thread:leave', { threadId }, () => undefined);
        }
      }
    };
  }

  /** Asks the server for a fresh snapshot of the thread (after a gap in the deltas). */
  rejoin(threadId: string): void {
    if (this.rooms.has(threadId)) {
      void this.sendJoin(threadId);
    }
  }

  private async sendJoin(threadId: string): Promise<void> {
    const socket = this.connect();
    if (!socket.connected) {
      return; // joined on connect
    }
    let ack: unknown;
    try {
      ack = await socket.timeout(15_000).emitWithAck('thread:join', { threadId });
    } catch {
      return; // disconnected meanwhile: joined again on connect
    }
    this.rooms.get(threadId)?.forEach((fn) => fn(ack));
  }
}

export const socketClient = new SocketClient();
