import { DEFAULT_TITLE } from '@app/ai';
import { ID_PATTERN, PageLimitQuery } from '@app/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
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

export const TITLE_MAX = 200;
export const SYSTEM_PROMPT_MAX = 20_000;
export const MODEL_ID_MAX = 200;

export class CreateThreadDto {
  @ApiPropertyOptional({ maxLength: TITLE_MAX, default: DEFAULT_TITLE })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(TITLE_MAX)
  // A blank title would be stored as nothing (it is trimmed): refuse it rather than answer 200 and ignore it.
  @Matches(/\S/, { message: 'title must not be blank' })
  title?: string;

  @ApiPropertyOptional({ description: 'A model id from GET /models; defaults to the default model' })
  @IsOptional()
  @IsString()
  @MaxLength(MODEL_ID_MAX)
  model?: string;

  @ApiPropertyOptional({ maxLength: SYSTEM_PROMPT_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(SYSTEM_PROMPT_MAX)
  systemPrompt?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 2,
    nullable: true,
    description: "The thread's sampling temperature, used when a message names none; null: the provider's default",
  })
  @ValidateIf((_, value) => value !== null)
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number | null;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 32_768,
    nullable: true,
    description: "The thread's reply budget in tokens, used when a message names none; null: the default",
  })
  @ValidateIf((_, value) => value !== null)
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32_768)
  maxTokens?: number | null;
}

export class UpdateThreadDto extends CreateThreadDto {
  @ApiPropertyOptional({ description: 'Switches the branch shown: a message of this thread (its newest leaf is used)' })
  @IsOptional()
  @IsString()
  @Matches(ID_PATTERN, { message: 'activeLeafId must be a message id' })
  activeLeafId?: string;
}

export class ListThreadsQuery extends PageLimitQuery {
  @ApiPropertyOptional({ description: 'Matches titles and message text, case-insensitive' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

export class ListMessagesQuery extends PageLimitQuery {
  @ApiPropertyOptional({ description: 'A message id of the active branch: return older messages' })
  @IsOptional()
  @IsString()
  @Matches(ID_PATTERN, { message: 'before must be a message id' })
  before?: string;

  @ApiPropertyOptional({ enum: ['active', 'all'], default: 'active' })
  @IsOptional()
  @IsIn(['active', 'all'])
  branch?: 'active' | 'all';
}

export class ExportThreadQuery {
  @ApiPropertyOptional({ enum: ['json', 'markdown'], default: 'json' })
  @IsOptional()
  @IsIn(['json', 'markdown'])
  format?: 'json' | 'markdown';
}
