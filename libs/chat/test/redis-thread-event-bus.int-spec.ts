import { type AppConfig, ConfabMetrics, RedisConnections } from '@app/common';
import { RedisProcess, redisServerAvailable } from '../../../test/support/redis-process';
import { RedisThreadEventBus } from '../src/events/redis-thread-event-bus';
import type { ThreadEvent } from '../src/events/thread-events';
import type { MessageView, ThreadView } from '../src/presenters';

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

// Two buses stand for two instances sharing one real redis-server: per-thread channels on sharded pub/sub (Redis 7,
// as detected), and on plain pub/sub (what an older Redis gets).
describeWithRedis.each(['auto', 'plain'] as const)(`${RedisThreadEventBus.name} (pub/sub: %s)`, (pubsub) => {
  let redis: RedisProcess;
  let connections: RedisConnections[];
  let a: RedisThreadEventBus;
  let b: RedisThreadEventBus;
  let metricsOfB: ConfabMetrics;
  /** Subscribers of a per-thread channel, as Redis counts them. */
  const subscribers = async (channel: string) => {
    const reply = (await connections[0].client.call(
      'PUBSUB',
      pubsub === 'auto' ? 'SHARDNUMSUB' : 'NUMSUB',
      `confab:${channel}`,
    )) as [string, number];
    return Number(reply[1]);
  };
  const received = async (followed: boolean) =>
    (await metricsOfB.threadEventsReceived.get()).values.find((v) => v.labels.followed === String(followed))?.value ??
    0;

  beforeAll(async () => {
    redis = await RedisProcess.start();
    connections = [0, 1].map(() => new RedisConnections({ redisUrl: redis.url } as AppConfig));
    await Promise.all(connections.map((c) => c.onModuleInit()));
    metricsOfB = new ConfabMetrics();
    a = new RedisThreadEventBus(connections[0], new ConfabMetrics(), { pubsub });
    b = new RedisThreadEventBus(connections[1], metricsOfB, { pubsub });
    // Both subscriptions are in place once a probe published on each side reaches the other (which follows it).
    const seen = [new Set<string>(), new Set<string>()];
    const offs = [a, b].map((bus, i) => bus.subscribe((e) => seen[i].add(e.threadId)));
    offs.push(a.follow('probe-b'), b.follow('probe-a'));
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
    // A follower reads the snapshot once its subscription is in place; from then on it misses nothing.
    await expect(b.snapshot('t1')).resolves.toBeNull();

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
    // Only the instance running the reply listens for its stops, and only until the reply ends.
    expect(await subscribers('thread:{t2}:stop')).toBe(1);
    a.publish({ type: 'message:done', threadId: 't2', message: { ...reply('stopped'), threadId: 't2' } });
    await eventually(async () => (await subscribers('thread:{t2}:stop')) === 0);
    offStop();
  });

  it("should send a thread's events only to instances following it, from their subscription on", async () => {
    const delta = (threadId: string, seq: number): ThreadEvent => ({
      type: 'message:delta',
      threadId,
      messageId: `m-${threadId}`,
      seq,
      delta: 'x',
    });
    const onB: string[] = [];
    const off = b.subscribe((e) => onB.push(`${e.threadId}#${(e as { seq: number }).seq}`));
    const unfollowProbe = b.follow('t4');
    await b.snapshot('t4');
    const before = { followed: await received(true), other: await received(false) };

    a.publish(delta('t3', 1)); // nobody follows t3 on B yet
    const unfollow = b.follow('t3');
    await b.snapshot('t3');
    expect(await subscribers('thread:{t3}:events')).toBe(1);
    a.publish(delta('t3', 2));
    a.publish(delta('t4', 1));
    await eventually(() => onB.length === 2);
    unfollow();
    await eventually(async () => (await subscribers('thread:{t3}:events')) === 0);
    a.publish(delta('t3', 3));
    a.publish(delta('t4', 2)); // published after t3's: once it has arrived, t3's would have too
    await eventually(() => onB.length === 3);

    expect(onB).toEqual(['t3#2', 't4#1', 't4#2']);
    // Everything B received had a local follower; nothing reached B only to be dropped.
    expect((await received(true)) - before.followed).toBe(3);
    expect((await received(false)) - before.other).toBe(0);
    off();
    unfollowProbe();
  });

  it("should send a thread's updates to the instances where its owner has a socket", async () => {
    const onB: string[] = [];
    const off = b.subscribe((e) => onB.push(`${e.type} ${e.threadId}`));
    const updated = (threadId: string, ownerId: string): ThreadEvent => ({
      type: 'thread:updated',
      threadId,
      ownerId,
      thread: { id: threadId } as ThreadView,
    });
    const unfollow = b.followOwner('u1');
    await eventually(async () => (await subscribers('user:{u1}:threads')) === 1);
    a.publish(updated('t5', 'u2')); // nobody follows u2 on B
    a.publish(updated('t6', 'u1'));
    await eventually(() => onB.length === 1);
    unfollow();
    await eventually(async () => (await subscribers('user:{u1}:threads')) === 0);

    expect(onB).toEqual(['thread:updated t6']);
    off();
  });

  it('should answer a snapshot while Redis is down instead of waiting for the subscription', async () => {
    await redis.kill();
    await eventually(() => connections[1].client.status !== 'ready');
    const unfollow = b.follow('t9');
    // The subscription waits for Redis (it is made once Redis is back); the snapshot does not wait for it.
    await expect(b.snapshot('t9')).resolves.toBeNull();
    unfollow();
  });
});
