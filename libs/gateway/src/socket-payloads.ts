import { ID_PATTERN } from '@app/common';
import { RegenerateDto, SendMessageDto } from '@app/chat';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MAX_TOKEN_LENGTH } from './socket-authenticator';

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

export class AuthRefreshPayload {
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TOKEN_LENGTH)
  token!: string;
}

export class SocketRegeneratePayload extends RegenerateDto {
  @IsString()
  @Matches(ID_PATTERN, { message: 'threadId must be a thread id' })
  threadId!: string;
}
