import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Client, type ClientInfo } from '../decorators/client.decorator';
import { Public } from '../decorators/public.decorator';
import { LoginDto, RefreshTokenDto, SignUpDto } from '../dto/credentials.dto';
import { AuthTokensView } from '../dto/responses.dto';
import { AccountService } from './account.service';

@ApiTags('auth')
@Public()
@Controller('auth')
export class AuthController {
  constructor(private readonly accounts: AccountService) {}

  @Post('signup')
  @ApiOperation({ summary: 'Create an account (the first one ever is an admin) and sign in' })
  @ApiCreatedResponse({ type: AuthTokensView })
  @ApiConflictResponse({ description: 'The email is taken (compared case-insensitively)' })
  @ApiTooManyRequestsResponse({ description: 'SIGNUP_RATE_LIMIT per client address; see Retry-After' })
  signUp(@Client() client: ClientInfo, @Body() dto: SignUpDto) {
    return this.accounts.signUp(client, dto);
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiOkResponse({ type: AuthTokensView })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password (one answer for both)' })
  @ApiForbiddenResponse({ description: 'account_disabled' })
  @ApiTooManyRequestsResponse({
    description:
      'LOGIN_RATE_LIMIT failures per account from one address, ten times that per address; past LOGIN_RATE_LIMIT ' +
      'failures per account, attempts on it are slowed down (up to LOGIN_MAX_DELAY), never refused',
  })
  login(@Client() client: ClientInfo, @Body() dto: LoginDto) {
    return this.accounts.login(client, dto);
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair; the old one stops working',
    description:
      'A token spent less than REFRESH_GRACE (10 s) ago answers with the same new refresh token (parallel refreshes ' +
      'from several tabs); presented later, it revokes the whole session.',
  })
  @ApiOkResponse({ type: AuthTokensView })
  @ApiUnauthorizedResponse({ description: 'Unknown, expired or revoked; a token spent longer ago revokes its session' })
  refresh(@Client() client: ClientInfo, @Body() dto: RefreshTokenDto) {
    return this.accounts.refresh(client, dto);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: "End the refresh token's session" })
  @ApiNoContentResponse()
  async logout(@Client() client: ClientInfo, @Body() dto: RefreshTokenDto) {
    await this.accounts.logout(client, dto);
  }
}
