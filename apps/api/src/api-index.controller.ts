import { Public } from '@app/auth';
import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';

/** The server's API version, as the OpenAPI document and the index report it. */
export const API_VERSION = '0.1.0';

/** Where an API user starts: `GET /api` names the documents and the entry points. */
export const API_INDEX = {
  name: 'confab',
  version: API_VERSION,
  links: {
    docs: '/api/docs',
    openapi: '/api/docs-json',
    health: '/api/health',
    models: '/api/models',
    openai: '/v1',
  },
};

@ApiTags('health')
@Public()
@Controller()
export class ApiIndexController {
  @Get()
  @ApiOperation({ summary: 'A small index for API users: name, version, links to the docs, health, models and /v1' })
  index() {
    return API_INDEX;
  }
}
