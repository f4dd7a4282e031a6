import { ID_PATTERN } from '@app/common';
import { SendMessageDto } from '@app/chat';
import { IsString, Matches } from 'class-validator';

export class ThreadRefPayload {
  @IsString()
  @Matches(ID_PATTERN, { message: 'threadId must be a thread id' })
  threadId!: string;
}

export class SocketSendPayload extends SendMessageDto {
  @IsString()
  @Matches(ID_PATTERN, { message: 'threadId must be a thread id' })
  threadId!: string;
}
