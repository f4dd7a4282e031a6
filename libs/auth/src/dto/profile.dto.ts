import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { NAME_MAX } from './credentials.dto';
import { Trim } from './transforms';

export class UpdateProfileDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: NAME_MAX })
  @IsOptional()
  @Trim()
  @IsString()
  @Length(1, NAME_MAX)
  name?: string;
}
