import { GenerationService, ThreadService, toMessageView, toThreadView } from '@app/chat';
import { APP_CONFIG, type AppConfig, DrainState } from '@app/common';
import { Inject, type OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { SocketConnections } from './socket-connections';
import { AuthRefreshPayload, SocketRegeneratePayload, SocketSendPayload, ThreadRefPayload } from './socket-payloads';
import { SocketRequests } from './socket-requests';
import type { ChatServer, ChatSocket } from './socket-types';
import { ThreadRooms } from './thread-rooms';

/**
 * The Socket.IO transport: one handler per client event, each a call into the chat pipeline through `SocketRequests`
 * (limits, validation, acks). Who is connected is `SocketConnections`' business, the rooms and resume `ThreadRooms`'.
 * It holds no business rules.
 */
@WebSocketGateway()
export class ChatGateway
  implements
    OnGatewayInit<ChatServer>,
    OnGatewayConnection<ChatSocket>,
    OnGatewayDisconnect<ChatSocket>,
    OnModuleDestroy
{
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly connections: SocketConnections,
    private readonly requests: SocketRequests,
    private readonly rooms: ThreadRooms,
    private readonly threads: ThreadService,
    private readonly generation: GenerationService,
    private readonly drainState: DrainState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  afterInit(server: ChatServer): void {
    this.unsubscribe.push(
      this.connections.watch(server),
      // Shutting down: tell every socket here at once (sends are refused from now on); the connections are closed
      // when the app closes after the grace, and clients reconnect (to another instance behind a load balancer).
      this.drainState.onDrain(() => server.local.emit('server:draining', { graceMs: this.config.shutdownGraceMs })),
      this.rooms.serve(server),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe.forEach((off) => off());
  }

  handleConnection(socket: ChatSocket): void {
    this.connections.connected(socket);
  }

  handleDisconnect(socket: ChatSocket): void {
    if (this.connections.disconnected(socket)) {
      this.rooms.forget(socket);
    }
  }

  /**
   * Re-authenticates the socket with a new access token of the same user (one the client got from /auth/refresh
   * or a new sign-in) before the current one expires; its session's revocation then disconnects the socket.
   */
  @SubscribeMessage('auth:refresh')
  refresh(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.requests.handle(socket, 'auth:refresh', AuthRefreshPayload, body, (_user, { token }) =>
      this.connections.refresh(socket, token),
    );
  }

  @SubscribeMessage('thread:join')
  join(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.requests.handle(socket, 'thread:join', ThreadRefPayload, body, async (user, { threadId }) => {
      const thread = await this.threads.find(user, threadId);
      return { thread: toThreadView(thread), streaming: await this.rooms.join(socket, thread.id) };
    });
  }

  @SubscribeMessage('thread:leave')
  leave(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.requests.handle(socket, 'thread:leave', ThreadRefPayload, body, async (_user, { threadId }) => {
      await this.rooms.leave(socket, threadId);
      return {};
    });
  }

  @SubscribeMessage('message:send')
  send(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.requests.handle(socket, 'message:send', SocketSendPayload, body, async (user, { threadId, ...dto }) => {
      const started = await this.generation.send(user, threadId, dto);
      return { userMessage: toMessageView(started.userMessage), assistantMessageId: started.assistantMessage.id };
    });
  }

  @SubscribeMessage('message:regenerate')
  regenerate(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    const type = SocketRegeneratePayload;
    return this.requests.handle(socket, 'message:regenerate', type, body, async (user, { threadId, ...dto }) => {
      const started = await this.generation.regenerate(user, threadId, dto);
      return { assistantMessageId: started.assistantMessage.id, parentId: started.assistantMessage.parentId };
    });
  }

  @SubscribeMessage('generation:stop')
  stop(@ConnectedSocket() socket: ChatSocket, @MessageBody() body: unknown) {
    return this.requests.handle(socket, 'generation:stop', ThreadRefPayload, body, async (user, { threadId }) => {
      await this.generation.stop(user, threadId);
      return {};
    });
  }
}
