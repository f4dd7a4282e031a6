import { ID_PATTERN } from '@app/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { MODEL_ID_MAX } from './thread.dto';

/** The longest message accepted (characters); the HTTP body limit and the socket buffer are sized from it. */
export const CONTENT_MAX = 100_000;

export class GenerationOptionsDto {
  @ApiPropertyOptional({ description: 'Overrides the thread model for this reply' })
  @IsOptional()
  @IsString()
  @MaxLength(MODEL_ID_MAX)
  model?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 32_768, description: 'Reply budget in tokens' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32_768)
  maxTokens?: number;
}

export class SendMessageDto extends GenerationOptionsDto {
  @ApiProperty({ minLength: 1, maxLength: CONTENT_MAX })
  @IsString()
  @MinLength(1)
  @MaxLength(CONTENT_MAX)
  content!: string;

  @ApiPropertyOptional({
    nullable: true,
    description:
      'The message to answer after: defaults to the active leaf; an earlier message edits from there (a new branch); null starts a new root branch',
  })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(ID_PATTERN, { message: 'parentId must be a message id' })
  parentId?: string | null;

  @ApiPropertyOptional({
    description: 'Idempotency key: a retry with the same key stores one message and starts one generation',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  clientMessageId?: string;
}

export class RegenerateDto extends GenerationOptionsDto {
  @ApiPropertyOptional({ description: "The answer to regenerate; defaults to the active leaf's answer" })
  @IsOptional()
  @IsString()
  @Matches(ID_PATTERN, { message: 'messageId must be a message id' })
  messageId?: string;
}
