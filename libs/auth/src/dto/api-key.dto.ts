import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import { Trim } from './transforms';

export const API_KEY_NAME_MAX = 100;

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: API_KEY_NAME_MAX, example: 'CI pipeline' })
  @Trim()
  @IsString()
  @Length(1, API_KEY_NAME_MAX)
  name!: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the key stops working (in the future); none: never' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true })
  expiresAt?: string;
}

/** A key as listed: never its secret. */
export class ApiKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'cfk_AbCd1234', description: 'The start of the key, to tell keys apart' }) prefix!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Updated at most once a minute' })
  lastUsedAt!: string | null;
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key itself (cfk_...): shown only in this response, store it now' })
  key!: string;
}

/** At most `MAX_API_KEYS_PER_USER` keys: one page, newest first (`nextCursor` is always null). */
export class ApiKeyListView {
  @ApiProperty({ type: [ApiKeyView] }) items!: ApiKeyView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: null;
}
