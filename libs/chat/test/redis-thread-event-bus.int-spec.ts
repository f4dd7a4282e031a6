import { type AppConfig, RedisConnections } from '@app/common';
import { RedisProcess, redisServerAvailable } from '../../../test/support/redis-process';
import { RedisThreadEventBus } from '../src/events/redis-thread-event-bus';
import type { ThreadEvent } from '../src/events/thread-events';
import type { MessageView } from '../src/presenters';

const describeWithRedis = redisServerAvailable() || process.env.CI === 'true' ? describe : describe.skip;

const reply = (status: MessageView['status'], content = ''): MessageView => ({
  id: 'a1',
  threadId: 't1',
  parentId: 'u1',
  role: 'assistant',
  content,
  reasoning: null,
  model: 'demo',
  status,
  usage: null,
  createdAt: new Date(0).toISOString(),
});

/** Resolves once `predicate` holds (Redis delivery is asynchronous), failing the test after a generous wait. */
async function eventually(predicate: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// Two buses stand for two instances sharing one real redis-server.
describeWithRedis(RedisThreadEventBus.name, () => {
  let redis: RedisProcess;
  let connections: RedisConnections[];
  let a: RedisThreadEventBus;
  let b: RedisThreadEventBus;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    connections = [0, 1].map(() => new RedisConnections({ redisUrl: redis.url } as AppConfig));
    await Promise.all(connections.map((c) => c.onModuleInit()));
    [a, b] = connections.map((c) => new RedisThreadEventBus(c));
    // Both subscriptions are in place once a probe published on each side reaches the other.
    const seen = [new Set<string>(), new Set<string>()];
    const offs = [a, b].map((bus, i) => bus.subscribe((e) => seen[i].add(e.threadId)));
    await eventually(() => {
      a.publish({ type: 'thread:deleted', threadId: 'probe-a' });
      b.publish({ type: 'thread:deleted', threadId: 'probe-b' });
      return seen[0].has('probe-b') && seen[1].has('probe-a');
    });
    offs.forEach((off) => off());
  });
  afterAll(async () => {
    [a, b].forEach((bus) => bus.onApplicationShutdown());
    connections.forEach((c) => c.onApplicationShutdown());
    await redis.kill();
  });

  it("should deliver one instance's events to the other in order, never back to itself, with its snapshot", async () => {
    const onA: ThreadEvent[] = [];
    const onB: ThreadEvent[] = [];
    const offA = a.subscribeThread('t1', (e) => onA.push(e));
    const offB = b.subscribeThread('t1', (e) => onB.push(e));

    a.publish({ type: 'message:created', threadId: 't1', message: reply('streaming') });
    a.publish({ type: 'message:delta', threadId: 't1', messageId: 'a1', seq: 1, delta: 'Hel' });
    a.publish({ type: 'message:delta', threadId: 't1', messageId: 'a1', seq: 2, delta: 'lo' });
    await eventually(() => onB.length === 3);

    expect(onB.map((e) => e.type)).toEqual(['message:created', 'message:delta', 'message:delta']);
    expect(onA).toHaveLength(3);
    expect(b.localSnapshot('t1')).toBeNull();
    await expect(b.snapshot('t1')).resolves.toEqual({ messageId: 'a1', content: 'Hello', seq: 2 });

    a.publish({ type: 'message:done', threadId: 't1', message: reply('complete', 'Hello') });
    await eventually(() => onB.length === 4);
    await expect(b.snapshot('t1')).resolves.toBeNull();
    expect(onA).toHaveLength(4);
    offA();
    offB();
  });

  it('should carry a stop request to the instance running the reply, and refuse one for a thread with none', async () => {
    const stops: string[] = [];
    const offStop = a.onRemoteStop((threadId) => stops.push(threadId));
    a.publish({ type: 'message:created', threadId: 't2', message: { ...reply('streaming'), threadId: 't2' } });
    await eventually(async () => (await b.snapshot('t2')) !== null);

    await expect(b.requestRemoteStop('t2')).resolves.toBe(true);
    await eventually(() => stops.length === 1);
    await expect(b.requestRemoteStop('t-none')).resolves.toBe(false);

    expect(stops).toEqual(['t2']);
    offStop();
  });
});
