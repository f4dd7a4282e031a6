import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth-user';
import { AcceptsApiKey } from '../decorators/accepts-api-key.decorator';
import { Client, type ClientInfo } from '../decorators/client.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import { ChangePasswordDto, DeleteAccountDto } from '../dto/credentials.dto';
import { UpdateProfileDto } from '../dto/profile.dto';
import { UsageHistoryView } from '../dto/account-activity.dto';
import { ProfileView } from '../dto/responses.dto';
import { UserView } from '../user/user.view';
import { ProfileService } from './profile.service';

const WRONG_PASSWORDS = 'LOGIN_RATE_LIMIT wrong passwords from this session (counted per session, not with sign-ins)';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('auth')
export class ProfileController {
  constructor(private readonly profile: ProfileService) {}

  @Get('me')
  @AcceptsApiKey()
  @ApiOperation({ summary: 'The current user, with token usage today (UTC) and in total' })
  @ApiOkResponse({ type: ProfileView })
  get(@CurrentUser() auth: AuthUser) {
    return this.profile.get(auth);
  }

  @Get('me/usage')
  @ApiOperation({
    summary: 'Token usage today and in total, the daily limit and what is left of it, and each of the last 30 UTC days',
  })
  @ApiOkResponse({ type: UsageHistoryView })
  usage(@CurrentUser() auth: AuthUser) {
    return this.profile.usageHistory(auth);
  }

  @Patch('me')
  @ApiOperation({ summary: 'Change the display name' })
  @ApiOkResponse({ type: UserView })
  update(@CurrentUser() auth: AuthUser, @Body() dto: UpdateProfileDto) {
    return this.profile.update(auth, dto);
  }

  @Post('password')
  @HttpCode(204)
  @ApiOperation({ summary: 'Change the password; every other session of the user ends' })
  @ApiNoContentResponse()
  @ApiTooManyRequestsResponse({ description: WRONG_PASSWORDS })
  async changePassword(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Body() dto: ChangePasswordDto) {
    await this.profile.changePassword(auth, client, dto);
  }

  @Delete('me')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the account with all its threads, messages and sessions' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'The last admin cannot leave while other users remain' })
  @ApiTooManyRequestsResponse({ description: WRONG_PASSWORDS })
  async delete(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Body() dto: DeleteAccountDto) {
    await this.profile.delete(auth, client, dto);
  }
}
