import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth-user';
import { Client, type ClientInfo } from '../decorators/client.decorator';
import { CurrentUser } from '../decorators/current-user.decorator';
import { ApiKeyListView, CreateApiKeyDto, CreatedApiKeyView } from '../dto/api-key.dto';
import { ApiKeyService, MAX_API_KEYS_PER_USER } from './api-key.service';

/** Key management: a session access token only (no `@AcceptsApiKey()`), so a leaked key cannot mint or keep keys. */
@ApiTags('api keys')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Called with an API key: key management needs a session access token' })
@Controller('auth/me/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeyService) {}

  @Post()
  @ApiOperation({
    summary: `Create a personal API key (cfk_...) for /v1 and the thread routes; at most ${MAX_API_KEYS_PER_USER} per user`,
  })
  @ApiCreatedResponse({ type: CreatedApiKeyView, description: 'The only response that ever shows the key' })
  @ApiConflictResponse({ description: `The user already holds ${MAX_API_KEYS_PER_USER} keys` })
  create(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Body() dto: CreateApiKeyDto) {
    return this.keys.create(auth, client, dto);
  }

  @Get()
  @ApiOperation({ summary: "The caller's API keys, newest first, without their secrets" })
  @ApiOkResponse({ type: ApiKeyListView })
  list(@CurrentUser() auth: AuthUser) {
    return this.keys.list(auth);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key: it stops working at once on every instance' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async revoke(@CurrentUser() auth: AuthUser, @Client() client: ClientInfo, @Param('id') id: string) {
    await this.keys.revoke(auth, client, id);
  }
}
