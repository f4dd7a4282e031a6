import { io, type Socket } from 'socket.io-client';

/** How long a test waits for an event or an ack before it fails with a message naming what it waited for. */
export const EVENT_TIMEOUT_MS = 5000;

export interface Received {
  event: string;
  payload: any;
}

/**
 * A Socket.IO client as a browser tab makes it (WebSocket transport, its own connection, no automatic reconnection)
 * that records every server event in arrival order, so a test can await an event that may already have arrived.
 */
export class TestSocket {
  readonly io: Socket;
  readonly received: Received[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(url: string, auth: Record<string, unknown>) {
    this.io = io(url, {
      path: '/socket.io',
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: EVENT_TIMEOUT_MS,
    });
    this.io.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload });
      this.waiters.forEach((check) => check());
    });
  }

  get connected(): boolean {
    return this.io.connected;
  }

  /** The payloads of every `event` received so far (optionally only those matching `filter`). */
  all<T = any>(event: string, filter: (payload: T) => boolean = () => true): T[] {
    return this.received.filter((r) => r.event === event && filter(r.payload as T)).map((r) => r.payload as T);
  }

  /** The deltas received so far (of one reply, or of all), joined in arrival order. */
  deltaText(messageId?: string): string {
    return this.all('message:delta', (p: any) => messageId === undefined || p.messageId === messageId)
      .map((p: any) => p.delta as string)
      .join('');
  }

  /** The first `event` received (already or later) that matches `filter`. */
  next<T = any>(event: string, filter: (payload: T) => boolean = () => true, timeoutMs = EVENT_TIMEOUT_MS) {
    return this.until(() => this.all<T>(event, filter)[0], `"${event}"`, timeoutMs);
  }

  /** Resolves with the first non-undefined value of `probe`, evaluated now and after every received event. */
  until<T>(probe: () => T | undefined, what: string, timeoutMs = EVENT_TIMEOUT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received: ${this.summary()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /**
   * Emits a client event and resolves with its ack; fails clearly when no ack comes. The ack is also recorded in
   * `received` (as `ack:<event>`) at the moment it arrived, so a test can tell what came before and after it.
   */
  emitAck<T = any>(event: string, ...args: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => {
      this.io.timeout(EVENT_TIMEOUT_MS).emit(event, ...args, (err: Error | null, ack: T) => {
        if (err) {
          reject(new Error(`no ack for "${event}" within ${EVENT_TIMEOUT_MS} ms (${err.message})`));
          return;
        }
        this.received.push({ event: `ack:${event}`, payload: ack });
        resolve(ack);
      });
    });
  }

  /**
   * Sends the packet `2<id>[event,<rawPayload>]` exactly as given, past the client's encoder (which recurses into payloads and
   * would overflow on what a hostile client can write by hand), and resolves with the server's ack.
   */
  emitRawAck<T = any>(event: string, rawPayload: string): Promise<T> {
    const id = ++rawAckIds;
    const prefix = `3${id}`;
    const engine = this.io.io.engine;
    return new Promise((resolve, reject) => {
      const onPacket = (packet: { type: string; data?: unknown }) => {
        if (packet.type === 'message' && typeof packet.data === 'string' && packet.data.startsWith(`${prefix}[`)) {
          engine.off('packet', onPacket);
          clearTimeout(timer);
          resolve((JSON.parse(packet.data.slice(prefix.length)) as T[])[0]);
        }
      };
      const timer = setTimeout(() => {
        engine.off('packet', onPacket);
        reject(new Error(`no ack for raw "${event}" within ${EVENT_TIMEOUT_MS} ms`));
      }, EVENT_TIMEOUT_MS);
      engine.on('packet', onPacket);
      engine.write(`2${id}[${JSON.stringify(event)},${rawPayload}]`);
    });
  }

  /** The server events received so far, in order, without the recorded acks. */
  events(): Received[] {
    return this.received.filter((r) => !r.event.startsWith('ack:'));
  }

  /** Resolves with the reason once the socket is disconnected (at once if it already is). */
  disconnected(timeoutMs = EVENT_TIMEOUT_MS): Promise<string> {
    if (!this.io.connected) {
      return Promise.resolve('not connected');
    }
    return once<string>(this.io, 'disconnect', timeoutMs);
  }

  close(): void {
    this.io.disconnect();
  }

  private summary(): string {
    const counts = new Map<string, number>();
    for (const r of this.events()) {
      counts.set(r.event, (counts.get(r.event) ?? 0) + 1);
    }
    return counts.size === 0 ? 'nothing' : [...counts].map(([e, n]) => `${e} x${n}`).join(', ');
  }
}

/** The next `event` on an emitter (a socket or its manager); rejects after `timeoutMs` naming the event. */
export function once<T = unknown>(
  emitter: { once: (event: string, listener: (arg: T) => void) => unknown; off: (event: string, fn: any) => unknown },
  event: string,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const listener = (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.once(event, listener);
  });
}

/** Connects a socket with this access token; rejects with the server's refusal when the handshake fails. */
export async function connect(url: string, token: string): Promise<TestSocket> {
  const socket = new TestSocket(url, { token });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.io.once('connect', () => resolve());
      socket.io.once('connect_error', (err: Error) => reject(new Error(`handshake refused: ${err.message}`)));
    });
  } catch (err) {
    socket.close();
    throw err;
  }
  return socket;
}

/** Attempts a handshake that must be refused; resolves with the `connect_error` message. */
export async function refusal(url: string, auth: Record<string, unknown>): Promise<string> {
  const socket = new TestSocket(url, auth);
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.io.once('connect', () => reject(new Error('the handshake was accepted')));
      socket.io.once('connect_error', (err: Error) => resolve(err.message));
    });
  } finally {
    socket.close();
  }
}

/** Ack ids of raw emits, far above the client's own (which count from 0). */
let rawAckIds = 1_000_000;

/** One reply as a socket saw it: its deltas in arrival order and the final message. */
export interface ObservedReply {
  /** `kind` only on reasoning deltas (`'reasoning'`), as the server sends it. */
  deltas: { seq: number; delta: string; kind?: 'reasoning' }[];
  done: any;
}

/** Waits for `message:done` of the reply and returns it with every delta of that reply the socket received. */
export async function replyOf(socket: TestSocket, messageId: string, timeoutMs = EVENT_TIMEOUT_MS) {
  const done = await socket.next('message:done', (p: any) => p.message.id === messageId, timeoutMs);
  const deltas = socket
    .all('message:delta', (p: any) => p.messageId === messageId)
    .map((p: any) => ({ seq: p.seq as number, delta: p.delta as string, ...(p.kind ? { kind: p.kind } : {}) }));
  return { deltas, done } as ObservedReply;
}
