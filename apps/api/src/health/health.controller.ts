import { ModelCatalog } from '@app/ai';
import { Public } from '@app/auth';
import { DrainState, RedisConnections } from '@app/common';
import { DatabaseHealth } from '@app/persistence';
import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    private readonly redis: RedisConnections,
    private readonly catalog: ModelCatalog,
    private readonly drain: DrainState,
  ) {}

  @Get()
  @ApiOperation({
    summary: "Liveness, with the database kind, the Redis state and each model provider's last discovery",
    description:
      'providers: [{ name, status: "pending"|"ok"|"error", models, checkedAt, error? }], one per configured ' +
      'provider; a provider in error leaves the others usable and does not make the server unhealthy.',
  })
  async health() {
    return {
      status: 'ok',
      database: this.database.kind,
      redis: await this.redis.ping(),
      providers: this.catalog.status(),
    };
  }

  @Get('ready')
  @HttpCode(200)
  @ApiOperation({ summary: 'Readiness: 503 until the database answers, and at once when the server starts draining' })
  async ready(@Res({ passthrough: true }) res: Response) {
    if (this.drain.draining) {
      // SIGTERM received: the load balancer should stop routing here while running replies finish.
      res.status(503);
      return { status: 'draining', database: this.database.kind, redis: await this.redis.ping() };
    }
    const databaseUp = await this.database.ping();
    if (!databaseUp) {
      res.status(503);
    }
    return { status: databaseUp ? 'ok' : 'unavailable', database: this.database.kind, redis: await this.redis.ping() };
  }
}
