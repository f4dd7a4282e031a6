import { AuthModule } from '@app/auth';
import { ChatModule } from '@app/chat';
import { Module } from '@nestjs/common';
import { ChatGateway } from './chat.gateway';
import { SocketAuthenticator } from './socket-authenticator';
import { SocketConnections } from './socket-connections';
import { SocketRequests } from './socket-requests';
import { ThreadRooms } from './thread-rooms';

/** Socket.IO transport over the chat pipeline. */
@Module({
  imports: [AuthModule, ChatModule],
  providers: [SocketAuthenticator, SocketConnections, SocketRequests, ThreadRooms, ChatGateway],
})
export class GatewayModule {}
