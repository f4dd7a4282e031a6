import { ApiProperty } from '@nestjs/swagger';
import { AdminUserView, TokenUsageView, UserView } from '../user/user.view';

export class AuthTokensView {
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ description: 'Bearer token for every other route; short-lived (ACCESS_TOKEN_TTL)' })
  accessToken!: string;
  @ApiProperty({ description: 'Single use: POST /auth/refresh exchanges it for a new pair' })
  refreshToken!: string;
}

export class UsagePeriodsView {
  @ApiProperty({ type: TokenUsageView, description: 'Since midnight UTC' }) today!: TokenUsageView;
  @ApiProperty({ type: TokenUsageView }) total!: TokenUsageView;
}

export class ProfileView extends UserView {
  @ApiProperty({ type: UsagePeriodsView }) usage!: UsagePeriodsView;
}

export class AdminUserPageView {
  @ApiProperty({ type: [AdminUserView] }) items!: AdminUserView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class AuditEntryView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Who acted (null: an anonymous caller)' })
  actorId!: string | null;
  @ApiProperty({ example: 'admin.user_updated' }) action!: string;
  @ApiProperty({ type: String, nullable: true, description: "The actor's email, while the account exists" })
  actorEmail!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The user acted upon' }) targetId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The target's email, while the account exists" })
  targetEmail!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) meta!: Record<string, unknown>;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuditPageView {
  @ApiProperty({ type: [AuditEntryView] }) items!: AuditEntryView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

export class TokenTotalsView {
  @ApiProperty({ type: TokenUsageView }) total!: TokenUsageView;
  @ApiProperty({ type: TokenUsageView }) last24h!: TokenUsageView;
}

export class RecentCountsView {
  @ApiProperty() threads!: number;
  @ApiProperty() messages!: number;
}

export class StatsView {
  @ApiProperty() users!: number;
  @ApiProperty() threads!: number;
  @ApiProperty() messages!: number;
  @ApiProperty({ type: TokenTotalsView }) tokens!: TokenTotalsView;
  @ApiProperty({ type: RecentCountsView, description: 'Created in the last 24 hours' }) last24h!: RecentCountsView;
}
