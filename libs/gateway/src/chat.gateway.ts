import { AccountEvents, type AuthUser } from '@app/auth';
import {
  GenerationService,
  type InFlightReply,
  ThreadEventBus,
  type ThreadEvent,
  ThreadService,
  UserEventRate,
  toMessageView,
  toThreadView,
} from '@app/chat';
import {
  APP_CONFIG,
  type AppConfig,
  AppError,
  ConfabMetrics,
  DrainState,
  jsonTooDeepError,
  prototypeKeyDetails,
  validationDetails,
  valueTooDeep,
} from '@app/common';
import type { ThreadEntity } from '@app/persistence';
import { Inject, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import { TOO_DEEP_PAYLOAD } from './depth-limited-parser';
import { TokenBucket } from './rate-limiter';
import { SocketAuthenticator } from './socket-authenticator';
import type { Ack, AckError, ClientToServerEvents, ServerToClientEvents } from './socket-events';
import { AuthRefreshPayload, SocketRegeneratePayload, SocketSendPayload, ThreadRefPayload } from './socket-payloads';

/** Per socket: a burst of 20 events, 5 a second after that. Per user: `UserEventRate`, shared with REST sends. */
const SOCKET_RATE = { capacity: 20, perSecond: 5 };
/** Concurrent connections one user may hold on one instance. */
export const MAX_CONNECTIONS_PER_USER = 20;
/** setTimeout's longest delay (about 24.8 days); a later deadline is re-armed when this much has passed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface SocketData {
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
type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** A join waiting for the in-flight snapshot: events are buffered, then filtered against it, then the room takes over. */
interface PendingJoin {
  socket: ChatSocket;
  threadId: string;
  buffer: ThreadEvent[] | null;
  snapshot: InFlightReply | null;
  /** Ends this join's following of the thread (the room follows it once the socket is in). */
  unfollow: () => void;
}

const THREAD_ROOM_PREFIX = 'thread:';
const threadRoom = (threadId: string) => `${THREAD_ROOM_PREFIX}${threadId}`;
const USER_ROOM_PREFIX = 'user:';
const userRoom = (userId: string) => `${USER_ROOM_PREFIX}${userId}`;

/**
 * The Socket.IO transport: authenticates the handshake with the same checks as HTTP, keeps one room per thread,
 * relays the generation pipeline's events and maps domain errors to ack errors. It holds no business rules.
 */
@WebSocketGateway()
export class ChatGateway
  implements
    OnGatewayInit<ChatServer>,
    OnGatewayConnection<ChatSocket>,
    OnGatewayDisconnect<ChatSocket>,
    OnModuleDestroy
{
  private readonly logger = new Logger(ChatGateway.name);
  private server!: ChatServer;
  private readonly userBuckets = new Map<string, { sockets: number }>();
  private readonly pending = new Map<string, Set<PendingJoin>>();
  private readonly unsubscribe: (() => void)[] = [];
  /**
   * Each thread room here follows its thread on the bus, and each user room its user's threads' updates (so that
   * events generated on other instances reach this one).
   */
  private readonly roomFollows = new Map<string, () => void>();

  constructor(
    private readonly auth: SocketAuthenticator,
    private readonly accountEvents: AccountEvents,
    private readonly threads: ThreadService,
    private readonly generation: GenerationService,
    private readonly bus: ThreadEventBus,
    private readonly drainState: DrainState,
    private readonly metrics: ConfabMetrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly userRate: UserEventRate,
  ) {}

  afterInit(server: ChatServer): void {
    this.server = server;
    server.use((socket, next) => {
      void this.authenticate(socket as ChatSocket).then(
        () => next(),
        (err: unknown) =>
          next(new Error(err instanceof AppError && err.code === 'rate_limited' ? 'rate_limited' : 'unauthorized')),
      );
    });
    const rooms = server.sockets.adapter;
    const onRoomCreated = (room: string) => {
      if (this.roomFollows.has(room)) {
        return;
      }
      if (room.startsWith(THREAD_ROOM_PREFIX)) {
        this.roomFollows.set(room, this.bus.follow(room.slice(THREAD_ROOM_PREFIX.length)));
      } else if (room.startsWith(USER_ROOM_PREFIX)) {
        this.roomFollows.set(room, this.bus.followOwner(room.slice(USER_ROOM_PREFIX.length)));
      }
    };
    const onRoomDeleted = (room: string) => {
      this.roomFollows.get(room)?.();
      this.roomFollows.delete(room);
    };
    rooms.on('create-room', onRoomCreated);
    rooms.on('delete-room', onRoomDeleted);
    this.unsubscribe.push(
      () => {
        rooms.off('create-room', onRoomCreated);
        rooms.off('delete-room', onRoomDeleted);
      },
      // Shutting down: tell every socket here at once (sends are refused from now on); the connections are closed
      // when the app closes after the grace, and clients reconnect (to another instance behind a load balancer).
      this.drainState.onDrain(() => server.local.emit('server:draining', { graceMs: this.config.shutdownGraceMs })),
      this.bus.subscribe((event) => this.relay(event)),
      this.accountEvents.on((event) => {
        if (event.type !== 'revoked') {
          return;
        }
        for (const socket of this.localSocketsOf(event.userId)) {
          if (event.sessionIds === 'all' || event.sessionIds.includes(socket.data.user.sessionId)) {
            socket.disconnect(true);
          }
        }
      }),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe.forEach((off) => off());
  }

  handleConnection(socket: ChatSocket): void {
    this.metrics.openSockets.inc();
    void socket.join(userRoom(socket.data.user.userId));
    this.armExpiry(socket, socket.data.expiresAt);
  }

  handleDisconnect(socket: ChatSocket): void {
    if (!socket.data.user) {
      return;
    }
    clearTimeout(socket.data.expiry);
    this.metrics.openSockets.dec();
    socket.data.release();
    this.dropPendingOf(socket);
  }

  /**
   * Re-authenticates the socket with a new access token of the same user (one the client got from /auth/refresh
   * or a new sign-in) before the current one expires; its session's revocation then disconnects the socket.
   */
  @SubscribeMessage('auth:refresh')
  refresh(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, AuthRefreshPayload, body, async (user, { token }) => {
      const access = await this.auth.verify(token);
      if (access.user.userId !== user.userId) {
        throw new AppError('forbidden', 'This token belongs to another account');
      }
      if (!socket.connected) {
        throw new AppError('unauthorized', 'Session expired or revoked');
      }
      socket.data.user = access.user;
      this.armExpiry(socket, access.expiresAt);
      return { expiresAt: access.expiresAt === null ? null : new Date(access.expiresAt).toISOString() };
    });
  }

  @SubscribeMessage('thread:join')
  join(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, ThreadRefPayload, body, async (user, { threadId }) => {
      const thread = await this.threads.find(user, threadId);
      const room = threadRoom(thread.id);
      // Followed throughout, so that leaving the room (its last socket) and joining again costs no unsubscription.
      const hold = this.bus.follow(thread.id);
      try {
        return await this.joinRoom(socket, thread, room);
      } finally {
        hold();
      }
    });
  }

  /** Joins the socket to the room at once, or through a pending join that reads the in-flight state first. */
  private async joinRoom(socket: ChatSocket, thread: ThreadEntity, room: string) {
    await socket.leave(room);
    // A join again (a retry, a reload race) replaces a previous one still pending: one feed per socket, or deltas
    // repeat. Dropped after the last await, so that of joins racing each other the last one to get here wins.
    this.dropPendingOf(socket, thread.id);
    const local = this.bus.localSnapshot(thread.id);
    if (local || !this.bus.distributed) {
      // The generation (if any) runs here: snapshot and join in the same turn, so no delta falls between.
      void socket.join(room);
      return { thread: toThreadView(thread), streaming: local };
    }
    // It may run on another instance: buffer what arrives while the snapshot is read, then drop what it holds.
    const join: PendingJoin = { socket, threadId: thread.id, buffer: [], snapshot: null, unfollow: () => undefined };
    this.addPending(join);
    // Waits for the thread's channel to be subscribed here (sharded channels), then reads the in-flight state.
    join.snapshot = await this.bus.snapshot(thread.id);
    setImmediate(() => this.drain(join)); // after the ack has been written
    return { thread: toThreadView(thread), streaming: join.snapshot };
  }

  @SubscribeMessage('thread:leave')
  leave(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, ThreadRefPayload, body, async (_user, { threadId }) => {
      await socket.leave(threadRoom(threadId));
      this.dropPendingOf(socket, threadId);
      return {};
    });
  }

  @SubscribeMessage('message:send')
  send(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, SocketSendPayload, body, async (user, { threadId, ...dto }) => {
      const started = await this.generation.send(user, threadId, dto);
      return { userMessage: toMessageView(started.userMessage), assistantMessageId: started.assistantMessage.id };
    });
  }

  @SubscribeMessage('message:regenerate')
  regenerate(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, SocketRegeneratePayload, body, async (user, { threadId, ...dto }) => {
      const started = await this.generation.regenerate(user, threadId, dto);
      return { assistantMessageId: started.assistantMessage.id, parentId: started.assistantMessage.parentId };
    });
  }

  @SubscribeMessage('generation:stop')
  stop(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.handle(socket, ThreadRefPayload, body, async (user, { threadId }) => {
      if (!(await this.generation.stop(user, threadId))) {
        throw new AppError('not_found', 'No reply is being generated in this thread');
      }
      return {};
    });
  }

  private async authenticate(socket: ChatSocket): Promise<void> {
    const { user, expiresAt } = await this.auth.handshake(socket.handshake.auth);
    if (socket.conn.readyState !== 'open') {
      // The client left while the token was being checked: Socket.IO drops the socket, so it takes no slot.
      throw new AppError('unauthorized', 'Connection closed');
    }
    const entry = this.userBuckets.get(user.userId) ?? { sockets: 0 };
    if (entry.sockets >= MAX_CONNECTIONS_PER_USER) {
      throw new AppError('rate_limited', 'Too many connections');
    }
    entry.sockets += 1;
    this.userBuckets.set(user.userId, entry);
    let released = false;
    const release = () => {
      if (released) {
        return;
      }
      released = true;
      if (--entry.sockets <= 0 && this.userBuckets.get(user.userId) === entry) {
        this.userBuckets.delete(user.userId);
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

  /** Rate limits, validates the payload like an HTTP body, runs the handler and turns any error into an ack error. */
  private async handle<P extends object, R extends object>(
    socket: ChatSocket,
    type: new () => P,
    body: unknown,
    handler: (user: AuthUser, payload: P) => Promise<R>,
  ): Promise<Ack<R>> {
    try {
      if (socket.data.expiresAt !== null && Date.now() >= socket.data.expiresAt) {
        // The deadline timer may lag behind a busy event loop; an expired credential is never served meanwhile.
        socket.disconnect(true);
        throw new AppError('unauthorized', 'Access token expired');
      }
      // Per socket, then per user: the user's budget is shared with their REST sends.
      if (!socket.data.bucket.take() || !this.userRate.take(socket.data.user.userId)) {
        return ackError(
          new AppError('rate_limited', 'Too many events: slow down', {
            retryAfterSeconds: socket.data.bucket.retryAfterSeconds(),
          }),
        );
      }
      // The parser replaced a too deep payload (checked on its text); a deep value from elsewhere is checked here.
      if (body === TOO_DEEP_PAYLOAD || valueTooDeep(body)) {
        throw jsonTooDeepError();
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw AppError.validation([{ field: 'payload', message: 'payload must be an object' }]);
      }
      const prototypeKeys = prototypeKeyDetails(body);
      if (prototypeKeys.length > 0) {
        throw AppError.validation(prototypeKeys);
      }
      const payload = plainToInstance(type, body);
      const errors = await validate(payload, {
        whitelist: true,
        forbidNonWhitelisted: true,
        forbidUnknownValues: true,
      });
      if (errors.length > 0) {
        throw AppError.validation(validationDetails(errors));
      }
      return { ok: true, ...(await handler(socket.data.user, payload)) };
    } catch (err) {
      if (err instanceof AppError) {
        return ackError(err);
      }
      const errorId = randomUUID();
      this.logger.error({ err, errorId }, 'socket handler failed');
      return { ok: false, error: { code: 'internal', message: `Internal error (${errorId})` } };
    }
  }

  private relay(event: ThreadEvent): void {
    const room = threadRoom(event.threadId);
    // A new title or setting reaches every tab of the owner, whether it joined the thread or not: the sidebar lists
    // them all, and a tab that moved to another thread before the title was generated must still see it. Those
    // sockets (pending joins too) are all in the owner's room: one packet each, not fed again below.
    const owner = event.type === 'thread:updated' ? event.ownerId : undefined;
    if (owner) {
      this.emitTo(this.server.local.to(room).to(userRoom(owner)), event);
      return;
    }
    // Most events of SSE-only threads have no socket here: skip encoding a packet for nobody.
    if (this.server.sockets.adapter.rooms.has(room)) {
      this.emitTo(this.server.local.to(room), event);
    }
    for (const join of this.pending.get(event.threadId) ?? []) {
      this.feed(join, event);
    }
    if (event.type === 'thread:deleted') {
      this.server.local.in(room).socketsLeave(room);
    }
  }

  private feed(join: PendingJoin, event: ThreadEvent): void {
    if (join.buffer) {
      join.buffer.push(event);
      return;
    }
    const s = join.snapshot;
    if (!s) {
      this.emitTo(join.socket, event);
      return;
    }
    const ofSnapshot =
      (event.type === 'message:delta' && event.messageId === s.messageId) ||
      (event.type === 'message:created' && event.message.id === s.messageId);
    if (event.type === 'message:delta' && ofSnapshot && event.seq <= s.seq) {
      return; // already in the snapshot
    }
    if (event.type === 'message:created' && ofSnapshot) {
      return;
    }
    this.emitTo(join.socket, event);
    const ended =
      (event.type === 'message:done' && event.message.id === s.messageId) ||
      (event.type === 'message:error' && event.messageId === s.messageId);
    if (ofSnapshot || ended) {
      // Past the snapshot: events arrive in publish order, so the room can take over without duplicates.
      this.promote(join);
    }
  }

  private drain(join: PendingJoin): void {
    if (!this.pending.get(join.threadId)?.has(join)) {
      return; // replaced by a newer join, left, or disconnected meanwhile
    }
    const buffered = join.buffer ?? [];
    join.buffer = null;
    for (const event of buffered) {
      this.feed(join, event);
    }
    if (!join.snapshot) {
      this.promote(join);
    }
  }

  private promote(join: PendingJoin): void {
    // Into the room before the pending join ends: the thread stays followed without a gap.
    if (this.pending.get(join.threadId)?.has(join) && join.socket.connected) {
      void join.socket.join(threadRoom(join.threadId));
    }
    this.dropPending(join);
  }

  private addPending(join: PendingJoin): void {
    join.unfollow = this.bus.follow(join.threadId);
    const joins = this.pending.get(join.threadId) ?? new Set();
    joins.add(join);
    this.pending.set(join.threadId, joins);
  }

  private dropPendingOf(socket: ChatSocket, threadId?: string): void {
    const threads = threadId === undefined ? [...this.pending.keys()] : [threadId];
    for (const id of threads) {
      for (const join of this.pending.get(id) ?? []) {
        if (join.socket === socket) {
          this.dropPending(join);
        }
      }
    }
  }

  private dropPending(join: PendingJoin): boolean {
    const joins = this.pending.get(join.threadId);
    const had = joins?.delete(join) ?? false;
    if (joins && joins.size === 0) {
      this.pending.delete(join.threadId);
    }
    if (had) {
      join.unfollow();
    }
    return had;
  }

  private emitTo(target: { emit: ChatServer['emit'] } | ChatSocket, event: ThreadEvent): void {
    const emit = target.emit.bind(target) as (name: string, payload: unknown) => void;
    switch (event.type) {
      case 'message:created':
        return emit('message:created', { threadId: event.threadId, message: event.message });
      case 'message:delta':
        return emit('message:delta', {
          threadId: event.threadId,
          messageId: event.messageId,
          seq: event.seq,
          delta: event.delta,
          ...(event.kind ? { kind: event.kind } : {}),
        });
      case 'message:done':
        return emit('message:done', { threadId: event.threadId, message: event.message });
      case 'message:error':
        return emit('message:error', { threadId: event.threadId, messageId: event.messageId, error: event.error });
      case 'thread:updated':
        return emit('thread:updated', { thread: event.thread });
      case 'thread:deleted':
        return emit('thread:deleted', { threadId: event.threadId });
    }
  }

  private localSocketsOf(userId: string): ChatSocket[] {
    const ids = this.server.sockets.adapter.rooms.get(userRoom(userId)) ?? new Set<string>();
    return [...ids].map((id) => this.server.sockets.sockets.get(id)).filter((s): s is ChatSocket => s !== undefined);
  }
}

function ackError(err: AppError): AckError {
  const error: AckError['error'] = { code: err.code, message: err.message };
  if (err.extra.details) {
    error.details = err.extra.details;
  }
  return { ok: false, error };
}
