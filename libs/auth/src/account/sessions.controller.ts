import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth-user';
import { Client, type ClientInfo } from '../decorators/client.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import { RevokedSessionsView, SessionListView } from '../dto/account-activity.dto';
import { SessionsService } from './sessions.service';

/** The caller's sessions: a session access token only (no `@AcceptsApiKey()`), like the rest of account management. */
@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth/me/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOperation({ summary: "The caller's signed-in sessions, most recently used first; `current` marks this one" })
  @ApiOkResponse({ type: SessionListView })
  list(@CurrentUser() auth: AuthUser) {
    return this.sessions.list(auth);
  }

  @Post('revoke-others')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign out everywhere else: every session of the caller but this one ends at once' })
  @ApiOkResponse({ type: RevokedSessionsView })
  revokeOthers(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo) {
    return this.sessions.revokeOthers(auth, client);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: "Sign out one of the caller's sessions (its tokens and sockets stop at once)" })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No live session of the caller has this id' })
  async revoke(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Param('id') id: string) {
    await this.sessions.revoke(auth, client, id);
  }
}
