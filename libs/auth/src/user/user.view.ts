import type { Role, TokenUsage, UserEntity, UserWithStats } from '@app/persistence';
import { ApiProperty } from '@nestjs/swagger';

/** The contract's User: what any response may say about an account (never its password hash). */
export class UserView {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['user', 'admin'] }) role!: Role;
  @ApiProperty() disabled!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class TokenUsageView {
  @ApiProperty() promptTokens!: number;
  @ApiProperty() completionTokens!: number;
}

export class AdminUserView extends UserView {
  @ApiProperty() threadCount!: number;
  @ApiProperty({ description: 'Personal API keys the user holds' }) apiKeyCount!: number;
  @ApiProperty({ type: TokenUsageView }) usage!: TokenUsage;
  @ApiProperty({ type: TokenUsageView, description: 'Since midnight UTC' }) usageToday!: TokenUsage;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The latest sign-in, token refresh or API key use; null when never',
  })
  lastActiveAt!: string | null;
}

/** Picks the contract's fields one by one, so a field added to the entity is never sent by accident. */
export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    disabled: user.disabled,
    createdAt: user.createdAt.toISOString(),
  };
}

export function toAdminUserView(user: UserWithStats): AdminUserView {
  return {
    ...toUserView(user),
    threadCount: user.threadCount,
    apiKeyCount: user.apiKeyCount,
    usage: { promptTokens: user.usage.promptTokens, completionTokens: user.usage.completionTokens },
    usageToday: { promptTokens: user.usageToday.promptTokens, completionTokens: user.usageToday.completionTokens },
    lastActiveAt: user.lastActiveAt?.toISOString() ?? null,
  };
}
