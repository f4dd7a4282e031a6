import { SendMessageDto } from '@app/chat';
import { IsString, Matches } from 'class-validator';

const ID = /^[0-9a-f]{24}$/;

export class ThreadRefPayload {
  @IsString()
  @Matches(ID, { message: 'threadId must be a thread id' })
  threadId!: string;
}

export class SocketSendPayload extends SendMessageDto {
  @IsString()
  @Matches(ID, { message: 'threadId must be a thread id' })
  threadId!: string;
}
