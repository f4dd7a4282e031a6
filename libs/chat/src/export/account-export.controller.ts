import { type AuthUser, CurrentUser, ProfileService, UserView } from '@app/auth';
import { ownerScope, MessageRepository, ThreadRepository } from '@app/persistence';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ExportedThread, toExportedThread } from './thread-export';

export class AccountExport {
  @ApiProperty({ format: 'date-time' }) exportedAt!: string;
  @ApiProperty({ type: UserView }) user!: UserView;
  @ApiProperty({ type: [ExportedThread], description: 'Oldest first' }) threads!: ExportedThread[];
}

/** The account export: the profile (libs/auth) and every thread exported as the chat library exports a thread. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth')
export class AccountExportController {
  constructor(
    private readonly profile: ProfileService,
    private readonly threads: ThreadRepository,
    private readonly messages: MessageRepository,
  ) {}

  @Get('me/export')
  @ApiOperation({ summary: 'Everything the user owns: profile and every thread with every branch' })
  @ApiOkResponse({ type: AccountExport })
  async export(@CurrentUser() auth: AuthUser): Promise<AccountExport> {
    const user = await this.profile.user(auth);
    const scope = ownerScope(user.id);
    const exported: ExportedThread[] = [];
    for (const thread of await this.threads.listAll(scope)) {
      exported.push(toExportedThread(thread, await this.messages.listTree(scope, thread.id)));
    }
    return { exportedAt: new Date().toISOString(), user, threads: exported };
  }
}
