import { type AppConfig, RedisConnections } from '@app/common';
import { randomUUID } from 'node:crypto';
import { LastAdminRule } from '../../libs/auth/src/admin/last-admin.rule';
import { RedisThreadEventBus } from '../../libs/chat/src/events/redis-thread-event-bus';
import { created, done } from '../../libs/chat/test/thread-event.fixtures';
import { httpClient, startApp, type TestApp } from '../support/app-harness';
import { type FakeReply, type FakeUpstream, lastUserText, startFakeUpstream } from '../support/fake-upstream';
import { RedisCluster, redisCliAvailable } from '../support/redis-cluster';
import { redisServerAvailable } from '../support/redis-process';
import { tempDir } from '../support/server-process';
import { connect, replyOf, type TestSocket } from '../support/socket-client';
import { accountsOf, type TestAccount } from './auth.fixtures';

/**
 * Every Redis-backed path of two instances against a real three-master Redis Cluster (REDIS_CLUSTER=true), as on
 * ElastiCache in cluster mode: a multi-key command over keys of two slots fails there with CROSSSLOT, and the
 * instances only fall back to serving their own listeners, so each test checks the cross-instance outcome (a
 * snapshot read on the other instance, a stop, a shared counter), which needs the Redis side to have worked.
 */
const IN_CI = process.env.CI === 'true';
const PREFIX = 'e2e-cluster:';

interface Instance extends TestApp {
  request: ReturnType<typeof httpClient>;
}

describe('two instances on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let upstream: FakeUpstream;
  let a: Instance;
  let b: Instance;
  let admin: TestAccount;
  const sockets: TestSocket[] = [];
  const replies = new Map<string, FakeReply>();

  beforeAll(async () => {
    if (!redisServerAvailable() || !(await redisCliAvailable())) {
      // Never skipped: without the tools the suite fails, in CI and locally alike (apt-get install redis-server).
      throw new Error(`redis-server and redis-cli are needed for the cluster suite${IN_CI ? ' (CI=true)' : ''}`);
    }
    [cluster, upstream] = await Promise.all([RedisCluster.start(), startFakeUpstream()]);
    upstream.script = (body) => {
      const text = lastUserText(body);
      return [...replies].find(([key]) => text.includes(key))?.[1];
    };
    const env = {
      REDIS_URL: cluster.url,
      REDIS_CLUSTER: 'true',
      REDIS_KEY_PREFIX: PREFIX,
      DATA_DIR: tempDir('confab-redis-cluster-'),
      OPENAI_API_KEY: 'sk-test-secret-key-0123456789',
      OPENAI_BASE_URL: upstream.baseUrl,
      OPENAI_MAX_RETRIES: '0',
      MODELS: 'gpt-test:16000',
      DEFAULT_MODEL: 'gpt-test',
      SIGNUP_RATE_LIMIT: '1000/h',
      LOGIN_RATE_LIMIT: '3/15m',
      TRUST_PROXY: '1',
    };
    const start = async () => {
      const app = await startApp(env);
      return { ...app, request: httpClient(app.url) };
    };
    a = await start();
    b = await start();
    admin = await accountsOf(a.request).signUp({ name: 'Root' });
  }, 60_000);

  afterEach(() => {
    sockets.splice(0).forEach((s) => s.close());
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await Promise.all([cluster?.stop(), upstream?.close()]);
  });

  function script(reply: FakeReply): string {
    const key = `k-${randomUUID()}`;
    replies.set(key, reply);
    return key;
  }

  async function open(instance: Instance, account: TestAccount): Promise<TestSocket> {
    const socket = await connect(instance.url, account.accessToken);
    sockets.push(socket);
    return socket;
  }

  async function newThread(owner: TestAccount): Promise<string> {
    const res = await a.request('POST', '/threads', { token: owner.accessToken, body: { title: 'On a cluster' } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  }

  const signUp = () => accountsOf(b.request).signUp();
  const inFlightKeys = async (threadId: string) =>
    (await cluster.keys()).filter((k) => k.startsWith(`${PREFIX}inflight:{${threadId}}`)).sort();

  async function eventually(probe: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await probe())) {
      if (Date.now() > deadline) {
        throw new Error(`not within 10 s: ${what}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Polls (bounded) until the thread has no in-flight keys left on any master. */
  async function noInFlightState(threadId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while ((await inFlightKeys(threadId)).length > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `in-flight state of ${threadId} is still in Redis: ${(await inFlightKeys(threadId)).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('should report redis "ok" on both instances, connected to the cluster', async () => {
    for (const instance of [a, b]) {
      const res = await instance.request('GET', '/health');
      expect(res.body).toMatchObject({ status: 'ok', redis: 'ok' });
    }
    expect(await cluster.command(cluster.ports[0], 'CLUSTER', 'INFO')).toContain('cluster_size:3');
  });

  it("should send one tick's thread events as one MULTI per thread (one slot each), in order on the other side", async () => {
    // Two buses of their own on the cluster: the transactions counted are theirs alone (the apps are idle here).
    const config = { redisUrl: cluster.url, redisCluster: true, redisKeyPrefix: PREFIX } as AppConfig;
    const connections = [new RedisConnections(config), new RedisConnections(config)];
    await Promise.all(connections.map((c) => c.onModuleInit()));
    const [from, to] = connections.map((c) => new RedisThreadEventBus(c));
    const execs = async () => {
      const stats = await Promise.all(cluster.ports.map((p) => cluster.command(p, 'INFO', 'commandstats')));
      return stats.reduce((n, s) => n + Number(/cmdstat_exec:calls=(\d+)/.exec(s)?.[1] ?? 0), 0);
    };
    try {
      const threads = Array.from({ length: 6 }, () => randomUUID()); // spread over the slots (and masters)
      const seen = new Map(threads.map((t) => [t, [] as string[]]));
      threads.forEach((t) =>
        to.subscribeThread(t, (e) => seen.get(t)!.push(e.type === 'message:delta' ? `#${e.seq}` : e.type)),
      );
      for (const t of threads) {
        await to.snapshot(t); // once the subscription is in place
      }
      const before = await execs();

      // One tick: every reply starts and streams three deltas, interleaved across threads; the next: the ends.
      threads.forEach((t) => from.publish(created(`m-${t}`, { threadId: t })));
      for (let seq = 1; seq <= 3; seq++) {
        threads.forEach((t) =>
          from.publish({ type: 'message:delta', threadId: t, messageId: `m-${t}`, seq, delta: `${seq} ` }),
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
      threads.forEach((t) => from.publish({ ...done(`m-${t}`, '1 2 3 '), threadId: t }));
      await eventually(async () => threads.every((t) => seen.get(t)!.length === 5), 'every event on the other bus');

      for (const t of threads) {
        expect(seen.get(t)).toEqual(['message:created', '#1', '#2', '#3', 'message:done']);
      }
      // 30 events of 6 threads in two ticks: 12 transactions (one per event before), none across slots (CROSSSLOT).
      expect((await execs()) - before).toBe(12);
      for (const t of threads) {
        await expect(to.snapshot(t)).resolves.toBeNull();
        await noInFlightState(t);
      }
    } finally {
      [from, to].forEach((bus) => bus.onApplicationShutdown());
      connections.forEach((c) => c.onApplicationShutdown());
    }
  });

  it('should resume a reply running on A in a tab joining on B mid-stream, then drop its in-flight state', async () => {
    const owner = await signUp();
    const threadId = await newThread(owner);
    const [first, late] = await Promise.all([open(a, owner), open(b, owner)]);
    expect(await first.emitAck('thread:join', { threadId })).toMatchObject({ ok: true });
    const tokens = Array.from({ length: 20 }, (_, i) => `w${i} `);
    const ack = await first.emitAck('message:send', { threadId, content: script({ tokens, tokenDelayMs: 40 }) });
    await first.until(() => (first.all('message:delta').length >= 3 ? true : undefined), 'three deltas');

    // The state lives in one slot, under the deployment's prefix, and B reads it from there (MULTI over both keys).
    expect(await inFlightKeys(threadId)).toEqual([
      `${PREFIX}inflight:{${threadId}}:content`,
      `${PREFIX}inflight:{${threadId}}:meta`,
    ]);
    const join = await late.emitAck('thread:join', { threadId });
    expect(join).toMatchObject({ ok: true, streaming: { messageId: ack.assistantMessageId } });
    const snapshot = join.streaming as { seq: number; content: string };
    expect(snapshot.seq).toBeGreaterThanOrEqual(1);

    const seen = await replyOf(late, ack.assistantMessageId);
    expect(seen.deltas.map((d) => d.seq)).toEqual(
      Array.from({ length: tokens.length - snapshot.seq }, (_, i) => snapshot.seq + 1 + i),
    );
    expect(snapshot.content + seen.deltas.map((d) => d.delta).join('')).toBe(tokens.join(''));
    // The end's script (a conditional DEL of both keys) ran on the cluster: nothing waits for the 60 s expiry.
    await noInFlightState(threadId);

    // The thread's sharded channel is subscribed (on the master owning its slot) while sockets follow it, no longer.
    const channel = `${PREFIX}thread:{${threadId}}:events`;
    expect(await cluster.shardChannels()).toContain(channel);
    await Promise.all([first, late].map((s) => s.emitAck('thread:leave', { threadId })));
    await eventually(async () => !(await cluster.shardChannels()).includes(channel), `${channel} unsubscribed`);
  });

  it('should stop a generation running on A from B, and stop another when B deletes its thread', async () => {
    const owner = await signUp();
    for (const how of ['stop', 'delete'] as const) {
      const threadId = await newThread(owner);
      const onA = await open(a, owner);
      expect(await onA.emitAck('thread:join', { threadId })).toMatchObject({ ok: true });
      const key = script({ tokens: ['halfway', ' there'], stallAfter: 1 });
      const request = upstream.nextRequest((r) => lastUserText(r.body).includes(key));
      const ack = await onA.emitAck('message:send', { threadId, content: `Stop me ${key}` });
      await onA.next('message:delta', (p) => p.messageId === ack.assistantMessageId);

      if (how === 'stop') {
        expect((await b.request('POST', `/threads/${threadId}/stop`, { token: owner.accessToken })).status).toBe(202);
        const { done } = await replyOf(onA, ack.assistantMessageId);
        expect(done.message).toMatchObject({ status: 'stopped', content: 'halfway' });
      } else {
        expect((await b.request('DELETE', `/threads/${threadId}`, { token: owner.accessToken })).status).toBe(204);
        expect(await onA.next('thread:deleted')).toEqual({ threadId });
      }
      await upstream.clientClosed(await request);
      await noInFlightState(threadId);
    }
  });

  it("should show a thread's new title to every socket of its owner on the other instance, joined or not", async () => {
    const owner = await signUp();
    const threadId = await newThread(owner);
    const [joinedOnB, sidebarOnB] = await Promise.all([open(b, owner), open(b, owner)]);
    expect(await joinedOnB.emitAck('thread:join', { threadId })).toMatchObject({ ok: true });
    const renamed = await a.request('PATCH', `/threads/${threadId}`, {
      token: owner.accessToken,
      body: { title: 'Renamed on A' },
    });
    expect(renamed.status).toBe(200);
    for (const socket of [joinedOnB, sidebarOnB]) {
      expect(await socket.next('thread:updated')).toEqual({ thread: renamed.body });
    }
    // On the owner's channel, not the thread's: one packet per socket.
    expect(joinedOnB.all('thread:updated')).toHaveLength(1);
  });

  it('should count failed sign-ins of both instances in one window and disconnect a disabled user everywhere', async () => {
    const victim = await signUp();
    const from = { 'x-forwarded-for': '198.51.100.23' };
    const guess = (instance: Instance, i: number) =>
      accountsOf(instance.request).login({ email: victim.email, password: `guess ${i}` }, from);
    expect([(await guess(a, 1)).status, (await guess(b, 2)).status, (await guess(a, 3)).status]).toEqual([
      401, 401, 401,
    ]);
    expect((await guess(b, 4)).status).toBe(429);

    const [onA, onB] = await Promise.all([open(a, victim), open(b, victim)]);
    const gone = [onA.disconnected(), onB.disconnected()];
    const res = await b.request('PATCH', `/admin/users/${victim.id}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    expect(res.status).toBe(200);
    expect(await Promise.all(gone)).toEqual(['io server disconnect', 'io server disconnect']);
  });

  it('should run admin changes of both instances one at a time under the cluster lock', async () => {
    const [ruleA, ruleB] = [a, b].map((i) => i.app.get(LastAdminRule));
    let inside = 0;
    let overlapped = false;
    const change = async () => {
      inside += 1;
      overlapped ||= inside > 1;
      await new Promise((resolve) => setTimeout(resolve, 30));
      inside -= 1;
    };
    await Promise.all([ruleA.exclusive(change), ruleB.exclusive(change), ruleA.exclusive(change)]);
    expect(overlapped).toBe(false);
  });

  it('should keep every key of the deployment under REDIS_KEY_PREFIX', async () => {
    const keys = await cluster.keys();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !k.startsWith(PREFIX))).toEqual([]);
  });
});
