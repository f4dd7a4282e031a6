import { type AppConfig, ConfabMetrics, MAX_BATCH, RedisConnections } from '@app/common';
import { Logger, type LoggerService } from '@nestjs/common';
import { RedisProcess, redisServerAvailable } from '../../../test/support/redis-process';
import { RedisThreadEventBus } from '../src/events/redis-thread-event-bus';
import type { InFlightReply, ThreadEvent } from '../src/events/thread-events';
import { created, done } from './thread-event.fixtures';

const describeWithRedis = redisServerAvailable() || process.env.CI === 'true' ? describe : describe.skip;

/** The next turn of the event loop: what is published before it is one tick's batch. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function eventually(predicate: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in 10 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const delta = (threadId: string, seq: number): ThreadEvent => ({
  type: 'message:delta',
  threadId,
  messageId: `m-${threadId}`,
  seq,
  delta: `${threadId}#${seq} `,
});
const start = (threadId: string) => created(`m-${threadId}`, { threadId });
const end = (threadId: string, content: string) => ({ ...done(`m-${threadId}`, content), threadId });
/** A reply's text after `seq` deltas. */
const textUpTo = (threadId: string, seq: number) =>
  Array.from({ length: seq }, (_, i) => `${threadId}#${i + 1} `).join('');

/** Warnings logged meanwhile (the bus logs an outage once). */
class Warnings implements LoggerService {
  readonly seen: string[] = [];
  log(): void {}
  error(): void {}
  warn(message: unknown): void {
    this.seen.push(String(message));
  }
}

// The events published in one tick go to Redis in one MULTI: two buses stand for two instances on one redis-server.
describeWithRedis(`${RedisThreadEventBus.name}: one MULTI per tick (or per MAX_BATCH events)`, () => {
  let redis: RedisProcess;
  let connections: RedisConnections[];
  let a: RedisThreadEventBus;
  let b: RedisThreadEventBus;
  const warnings = new Warnings();
  /** Transactions redis-server has run so far (INFO commandstats). */
  const execs = async () =>
    Number(/cmdstat_exec:calls=(\d+)/.exec(await connections[1].client.info('commandstats'))?.[1] ?? 0);

  beforeAll(async () => {
    Logger.overrideLogger(warnings);
    redis = await RedisProcess.start();
    connections = [0, 1].map(() => new RedisConnections({ redisUrl: redis.url } as AppConfig));
    await Promise.all(connections.map((c) => c.onModuleInit()));
    [a, b] = connections.map((c) => new RedisThreadEventBus(c, new ConfabMetrics()));
    // B's subscriptions are in place once a probe published on A reaches B (which follows it).
    let probed = false;
    const off = b.subscribeThread('probe', () => (probed = true));
    await eventually(() => {
      a.publish({ type: 'thread:deleted', threadId: 'probe' });
      return probed;
    });
    off();
  });
  afterAll(async () => {
    [a, b].forEach((bus) => bus.onApplicationShutdown());
    connections.forEach((c) => c.onApplicationShutdown());
    await redis.kill();
  });

  it("should send one tick's events of several threads together, each thread's in order on the other instance", async () => {
    const threads = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const onB = new Map(threads.map((t) => [t, [] as string[]]));
    const offs = threads.map((t) =>
      b.subscribeThread(t, (e) => onB.get(t)!.push(e.type === 'message:delta' ? `#${e.seq}` : e.type)),
    );
    for (const t of threads) {
      await b.snapshot(t); // once B's subscription is in place
    }
    const before = await execs();

    // One tick: every reply starts and streams three deltas, interleaved across threads; the next: the ends.
    threads.forEach((t) => a.publish(start(t)));
    for (let seq = 1; seq <= 3; seq++) {
      threads.forEach((t) => a.publish(delta(t, seq)));
    }
    await nextTurn();
    threads.forEach((t) => a.publish(end(t, textUpTo(t, 3))));
    await eventually(() => threads.every((t) => onB.get(t)!.length === 5));

    for (const t of threads) {
      expect(onB.get(t)).toEqual(['message:created', '#1', '#2', '#3', 'message:done']);
    }
    // 25 events in two ticks (20, then 5): one transaction per tick, or per MAX_BATCH events (one per event before).
    expect((await execs()) - before).toBe(Math.ceil(20 / MAX_BATCH) + 1);
    // Every end's drop ran: nothing of the replies is left in Redis.
    for (const t of threads) {
      await expect(b.snapshot(t)).resolves.toBeNull();
    }
    offs.forEach((off) => off());
  });

  it('should give a joiner on the other instance a snapshot that agrees with the stream, whichever batch it lands in', async () => {
    const threads = ['j1', 'j2', 'j3', 'j4'];
    const deltas = 30;
    threads.forEach((t) => a.publish(start(t)));
    // Each thread's joiner arrives at another point of the stream; a few batches go by while its snapshot is read,
    // and the publisher waits for it a few deltas on (on a loaded machine one read can outlast the whole stream).
    const tookSnapshot: (() => void)[] = [];
    const taken = threads.map((_, i) => new Promise<void>((resolve) => (tookSnapshot[i] = resolve)));
    const joins = threads.map(async (t, i) => {
      while ((a.localSnapshot(t)?.seq ?? 0) < i * 7) {
        await nextTurn();
      }
      const after: { seq: number; delta: string }[] = [];
      const off = b.subscribeThread(t, (e) => e.type === 'message:delta' && after.push(e));
      const snapshot = (await b.snapshot(t)) as InFlightReply;
      tookSnapshot[i]();
      await eventually(() => (after.at(-1)?.seq ?? snapshot.seq) === deltas);
      off();
      return { t, snapshot, after };
    });
    for (let seq = 1; seq <= deltas; seq++) {
      threads.forEach((t) => a.publish(delta(t, seq)));
      await nextTurn();
      const waitFor = threads.findIndex((_, i) => seq === i * 7 + 3);
      if (waitFor >= 0) {
        await taken[waitFor];
      }
    }
    const joined = await Promise.all(joins);
    threads.forEach((t) => a.publish(end(t, textUpTo(t, deltas))));

    for (const { t, snapshot, after } of joined) {
      // The snapshot is the state after some whole batch: its text is exactly the deltas up to its seq ...
      expect(snapshot).toMatchObject({ messageId: `m-${t}`, content: textUpTo(t, snapshot.seq) });
      // ... and the stream goes on from the next seq, nothing missing: together they are the whole reply.
      const rest = after.filter((d) => d.seq > snapshot.seq);
      expect(rest.map((d) => d.seq)).toEqual(
        Array.from({ length: deltas - snapshot.seq }, (_, k) => snapshot.seq + 1 + k),
      );
      expect(snapshot.content + rest.map((d) => d.delta).join('')).toBe(textUpTo(t, deltas));
    }
    // The joiners did land at different points (the first one before any delta).
    expect(joined[0].snapshot.seq).toBeLessThan(joined[3].snapshot.seq);
  });

  it('should read back what this instance published in the same tick: a reply ended just before its snapshot', async () => {
    a.publish(start('r1'));
    a.publish(delta('r1', 1));
    await eventually(async () => (await b.snapshot('r1')) !== null);

    a.publish(end('r1', textUpTo('r1', 1)));
    // Same tick: the end is not sent yet when the snapshot is asked for; the snapshot sends it first.
    const snapshot = a.snapshot('r1');

    await expect(snapshot).resolves.toBeNull();
  });

  it('should serve local listeners at once while Redis is down, and log the outage once', async () => {
    await redis.kill();
    await eventually(() => connections[0].client.status !== 'ready');
    const local: string[] = [];
    const off = a.subscribeThread('d1', (e) => local.push(e.type));
    warnings.seen.length = 0;

    a.publish(start('d1'));
    expect(local).toEqual(['message:created']); // synchronously, before any batch is sent
    for (let seq = 1; seq <= 3; seq++) {
      a.publish(delta('d1', seq));
      expect(local).toHaveLength(seq + 1);
      await nextTurn(); // a batch per tick, each failing
    }
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(a.localSnapshot('d1')).toEqual({ messageId: 'm-d1', content: textUpTo('d1', 3), seq: 3 });
    expect(warnings.seen.filter((w) => w.includes('serving local listeners only'))).toHaveLength(1);
    off();
  });
});
