import { type AppConfig, RedisConnections } from '@app/common';
import type { UserRepository } from '@app/persistence';
import { RedisProcess, redisServerAvailable } from '../../../test/support/redis-process';
import { LastAdminRule } from '../src/admin/last-admin.rule';

// Two rules stand for two server instances; only the Redis lock can keep their changes from overlapping.
const describeWithRedis = redisServerAvailable() || process.env.CI === 'true' ? describe : describe.skip;

describeWithRedis(LastAdminRule.name, () => {
  let redis: RedisProcess;
  let connections: RedisConnections[];

  beforeAll(async () => {
    redis = await RedisProcess.start();
    connections = [0, 1].map(() => new RedisConnections({ redisUrl: redis.url } as AppConfig));
    // Commands fail fast while a connection is not ready yet (no offline queue): wait for both.
    await Promise.all(
      connections.map((c) => (c.client.status === 'ready' ? undefined : new Promise((r) => c.client.once('ready', r)))),
    );
  });
  afterAll(async () => {
    connections.forEach((c) => c.onApplicationShutdown());
    await redis.kill();
  });

  it('should run admin changes of two instances one at a time', async () => {
    const [a, b] = connections.map((c) => new LastAdminRule({} as UserRepository, c));
    let inside = 0;
    let overlapped = false;
    const change = async () => {
      inside += 1;
      overlapped ||= inside > 1;
      await new Promise((resolve) => setTimeout(resolve, 30));
      inside -= 1;
    };
    await Promise.all([a.exclusive(change), b.exclusive(change), a.exclusive(change), b.exclusive(change)]);
    expect(overlapped).toBe(false);
    expect(inside).toBe(0);
  });
});
