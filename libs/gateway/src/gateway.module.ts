import { AuthModule } from '@app/auth';
import { ChatModule } from '@app/chat';
import { Module } from '@nestjs/common';
import { ChatGateway } from './chat.gateway';
import { SocketAuthenticator } from './socket-authenticator';

/** Socket.IO transport over the chat pipeline. */
@Module({
  imports: [AuthModule, ChatModule],
  providers: [SocketAuthenticator, ChatGateway],
})
export class GatewayModule {}
