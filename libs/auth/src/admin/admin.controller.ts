import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth-user';
import { AdminOnly } from '../decorators/admin-only.decorator';
import { Client, type ClientInfo } from '../decorators/client.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import { AuditQueryDto, ListUsersQueryDto, UpdateUserDto } from '../dto/admin.dto';
import { AdminUserPageView, AuditPageView, StatsView } from '../dto/responses.dto';
import { UserView } from '../user/user.view';
import { AdminService } from './admin.service';

@ApiTags('admin')
@ApiBearerAuth()
@AdminOnly()
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('users')
  @ApiOperation({ summary: 'Users, newest first, with their thread count and token usage' })
  @ApiOkResponse({ type: AdminUserPageView })
  listUsers(@CurrentUser() auth: AuthUser, @Query() query: ListUsersQueryDto) {
    return this.admin.listUsers(auth, query);
  }

  @Patch('users/:id')
  @ApiOperation({ summary: 'Change a role or disable a user (disabling ends all their sessions at once)' })
  @ApiOkResponse({ type: UserView })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The last admin cannot be demoted or disabled' })
  updateUser(
    @CurrentUser() auth: AuthUser,
    @Client() client: ClientInfo,
    @Param('id') id: string,
    @Body() dto: UpdateUserDto,
  ) {
    return this.admin.updateUser(auth, client, id, dto);
  }

  @Delete('users/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user with their threads, messages and sessions' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'The last admin cannot be deleted' })
  async deleteUser(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Param('id') id: string) {
    await this.admin.deleteUser(auth, client, id);
  }

  @Get('audit')
  @ApiOperation({ summary: 'The audit log, newest first: admin actions, sign-in failures, token reuse' })
  @ApiOkResponse({ type: AuditPageView })
  auditLog(@CurrentUser() auth: AuthUser, @Query() query: AuditQueryDto) {
    return this.admin.auditLog(auth, query);
  }

  @Get('stats')
  @ApiOperation({ summary: 'Counts of users, threads, messages and tokens' })
  @ApiOkResponse({ type: StatsView })
  stats(@CurrentUser() auth: AuthUser) {
    return this.admin.stats(auth);
  }
}
