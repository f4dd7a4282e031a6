import { AcceptsApiKey } from '@app/auth';
import { ModelCatalog } from '@app/ai';
import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ModelListView } from '../dto/responses.dto';

@ApiTags('models')
@ApiBearerAuth()
@AcceptsApiKey()
@Controller('models')
export class ModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get()
  @ApiOperation({ summary: 'The models offered: { models: [{ id, name, contextWindow }], defaultModel, demo }' })
  @ApiOkResponse({ type: ModelListView })
  list() {
    return this.catalog.list();
  }
}
