import { AcceptsApiKey } from '@app/auth';
import { ModelCatalog } from '@app/ai';
import { Controller, Get, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OpenAiExceptionFilter } from './openai-exception.filter';

/** When the server started: OpenAI's `created` of a model, which confab does not know for the provider's models. */
const STARTED = Math.floor(Date.now() / 1000);

@ApiTags('openai-compatible')
@ApiBearerAuth()
@AcceptsApiKey()
@UseFilters(OpenAiExceptionFilter)
@Controller('v1/models')
export class OpenAiModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get()
  @ApiOperation({ summary: 'The models this server offers, as OpenAI lists them' })
  async list() {
    const { models } = await this.catalog.list();
    return {
      object: 'list',
      data: models.map((m) => ({ id: m.id, object: 'model', created: STARTED, owned_by: 'confab' })),
    };
  }
}
