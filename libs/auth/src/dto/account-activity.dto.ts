import { ApiProperty } from '@nestjs/swagger';
import { TokenUsageView } from '../user/user.view';

/** The days a usage history covers: today and the 29 before it. */
export const USAGE_HISTORY_DAYS = 30;

export class DailyUsageView extends TokenUsageView {
  @ApiProperty({ example: '2026-12-01', description: 'A UTC day' }) date!: string;
}

export class UsageHistoryView {
  @ApiProperty({ type: TokenUsageView, description: 'Since midnight UTC' }) today!: TokenUsageView;
  @ApiProperty({ type: TokenUsageView }) total!: TokenUsageView;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'USER_DAILY_TOKEN_LIMIT (prompt + completion tokens a UTC day); null when there is none',
  })
  dailyLimit!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'What is left of the daily limit today; null without one' })
  remainingToday!: number | null;
  @ApiProperty({
    type: [DailyUsageView],
    description: `The last ${USAGE_HISTORY_DAYS} UTC days, oldest first, today last; days without usage count zero`,
  })
  days!: DailyUsageView[];
}

/** One of the caller's signed-in sessions (a refresh-token family). */
export class SessionView {
  @ApiProperty() id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The browser or client that signed in' })
  userAgent!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ format: 'date-time', description: 'The sign-in' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'The last sign-in or token refresh' }) lastUsedAt!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ description: 'The session of this request' }) current!: boolean;
}

export class SessionListView {
  @ApiProperty({ type: [SessionView], description: 'Live sessions, most recently used first' }) items!: SessionView[];
}

export class RevokedSessionsView {
  @ApiProperty({ description: 'How many sessions were signed out' }) revoked!: number;
}
