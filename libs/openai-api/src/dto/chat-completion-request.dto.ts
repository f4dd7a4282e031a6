import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

/** How many messages one request may carry (the body limit bounds their text). */
export const MAX_MESSAGES = 2000;

export class StreamOptionsDto {
  @ApiPropertyOptional({ description: 'Send a last chunk with `choices: []` and the usage before `data: [DONE]`' })
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;

  /** Accepted and ignored: confab sends no obfuscation padding. */
  @IsOptional()
  @IsBoolean()
  include_obfuscation?: boolean;
}

/**
 * OpenAI's chat-completions request. Used: `model`, `messages`, `stream`, `stream_options.include_usage`,
 * `temperature`, `top_p`, `max_tokens` / `max_completion_tokens`, `stop`. Accepted and ignored (they change nothing
 * a client relies on, or confab decides them): `user`, `n: 1`, `frequency_penalty`, `presence_penalty`, `seed`,
 * `logit_bias`, `logprobs: false`, `metadata`, `store`, `service_tier`, `parallel_tool_calls`, `reasoning_effort`,
 * `response_format: {type: "text"}`, `modalities: ["text"]`. Refused with 400 because ignoring them would give a
 * silently wrong answer: `n > 1`, `tools`, `tool_choice`, `functions`, `function_call`, `logprobs: true`,
 * `response_format` other than text, `audio`, non-text `modalities`, `prediction`, `web_search_options`. Any other
 * field is refused (400), as OpenAI does.
 */
export class ChatCompletionRequestDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'One of GET /v1/models' })
  @IsString()
  @MaxLength(200)
  model!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'system / developer / user / assistant messages; content is a string or text parts',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MESSAGES)
  @Allow()
  messages!: unknown[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 1 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  top_p?: number;

  @ApiPropertyOptional({ minimum: 1, deprecated: true, description: 'Same as max_completion_tokens' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_tokens?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  max_completion_tokens?: number;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }] })
  @IsOptional()
  @Allow()
  stop?: unknown;

  @ApiPropertyOptional({ description: 'Ignored: confab knows the caller' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @ApiPropertyOptional({ enum: [1] })
  @IsOptional()
  @IsInt()
  n?: number;

  // Accepted and ignored (see the class comment); their types are still checked.
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-2) @Max(2) frequency_penalty?: number;
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-2) @Max(2) presence_penalty?: number;
  @IsOptional() @IsInt() seed?: number;
  @IsOptional() @IsObject() logit_bias?: Record<string, number>;
  @IsOptional() @IsBoolean() logprobs?: boolean;
  @IsOptional() @IsInt() @Min(0) @Max(20) top_logprobs?: number;
  @IsOptional() @IsObject() metadata?: Record<string, string>;
  @IsOptional() @IsBoolean() store?: boolean;
  @IsOptional() @IsString() service_tier?: string;
  @IsOptional() @IsBoolean() parallel_tool_calls?: boolean;
  @IsOptional() @IsString() reasoning_effort?: string;
  @IsOptional() @IsObject() response_format?: { type?: unknown };
  @IsOptional() @IsArray() modalities?: unknown[];

  // Refused when given (see the class comment): declared so that the message says why.
  @IsOptional() @Allow() tools?: unknown;
  @IsOptional() @Allow() tool_choice?: unknown;
  @IsOptional() @Allow() functions?: unknown;
  @IsOptional() @Allow() function_call?: unknown;
  @IsOptional() @Allow() audio?: unknown;
  @IsOptional() @Allow() prediction?: unknown;
  @IsOptional() @Allow() web_search_options?: unknown;
}
