/**
 * `npm run bench:scale`: what each instance receives from Redis as instances are added (issue 18). 1, 2 and 4 built
 * server processes share one redis-server and one database; every instance carries the same load (STREAMS_PER
 * INSTANCE replies at once, each followed by one socket on that instance, its send made by another socket of the
 * user on the next instance, so the reply is generated there and must cross Redis to reach its follower). Printed
 * per instance: Redis thread-event messages received per second, the share of them whose thread had a local
 * listener (`confab_thread_events_received_total{followed}`), and the server's CPU per token it relayed to its sockets.
 *
 * The same run measures `REDIS_THREAD_CHANNELS=single` first (one channel for every thread event: every instance
 * receives every event) as the baseline, then the sharded channels (the default). Goal: share >= 95 % on every
 * instance, and per-instance inbound flat as instances are added (4 instances <= 1.25 x 1 instance).
 *
 * Per step, from redis-server itself (INFO): its CPU per token, and the transactions (EXEC) and commands it ran per
 * delta relayed (the thread events of one event-loop turn go out in one MULTI: fewer than one EXEC per delta when
 * replies stream together), with the machine's load average at the end of the step.
 *
 * BENCH_QUICK=1 runs a reduced version (for checking the benchmark itself, not for figures).
 */
import { Redis } from 'ioredis';
import { loadavg } from 'node:os';
import { RedisProcess, redisServerAvailable } from '../test/support/redis-process';
import { type RunningServer, tempDir } from '../test/support/server-process';
import { Api, mapLimit } from './support/client';
import {
  type Cleanups,
  cpuMs,
  forkTs,
  IpcClient,
  machineLine,
  removeDir,
  runBenchmark,
  serverEnv,
  startConfab,
  startUpstream,
  type Upstream,
} from './support/processes';
import type { RunResult } from './support/socket-worker';
import { log, printTable, type Row } from './support/stats';
import { benchPrompt, benchTokens } from './support/tokens';

const QUICK = process.env.BENCH_QUICK === '1';
const INSTANCE_COUNTS = [1, 2, 4];
const MODES = ['single', 'sharded'] as const;
type Mode = (typeof MODES)[number];
/** Replies at once per instance (the load each instance carries, whatever the instance count). */
const STREAMS_PER_INSTANCE = QUICK ? 5 : 20;
/** 50 tokens/s per reply, as the gateway benchmark. */
const TOKEN_DELAY_MS = 20;
const TOKENS = QUICK ? 50 : 200;
const RAMP_MS = 1000;
const SHARE_GOAL = 0.95;
const FLAT_GOAL = 1.25;

interface Figures {
  mode: Mode;
  instances: number;
  perInstance: {
    received: number;
    perSecond: number;
    share: number;
    /** Tokens of the replies its sockets followed (each checked whole), and the deltas that carried them. */
    tokens: number;
    deltas: number;
    cpuUsPerToken: number;
  }[];
  problems: string[];
  /** redis-server's CPU per token generated in the whole cluster. */
  redisUsPerToken: number;
  /** Deltas per token (the pipeline merges tokens arriving in one I/O turn). */
  deltasPerToken: number;
  /** Transactions (EXEC) and commands redis-server ran per delta relayed, everything of the step included. */
  execsPerDelta: number;
  commandsPerDelta: number;
  /** The 1-minute load average at the end of the step. */
  load: number;
}

/** redis-server's own counters: EXECs run and commands processed so far. */
async function redisCounters(url: string): Promise<{ execs: number; commands: number }> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const [commandstats, stats] = [await client.info('commandstats'), await client.info('stats')];
    return {
      execs: Number(/cmdstat_exec:calls=(\d+)/.exec(commandstats)?.[1] ?? 0),
      commands: Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? 0),
    };
  } finally {
    client.disconnect();
  }
}

/** `confab_thread_events_received_total{followed=...}` of one instance. */
async function received(url: string): Promise<{ followed: number; other: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (followed: boolean) =>
    Number(
      new RegExp(`^confab_thread_events_received_total\\{followed="${followed}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0,
    );
  return { followed: value(true), other: value(false) };
}

async function measure(mode: Mode, count: number, upstream: Upstream, redis: RedisProcess, tag: string) {
  const dataDir = tempDir('confab-bench-scale-');
  // A fresh Redis per step: nothing of the previous step's instances is left subscribed.
  await redis.kill();
  await redis.restart();
  const env = serverEnv(dataDir, upstream.baseUrl, { REDIS_URL: redis.url, REDIS_THREAD_CHANNELS: mode });
  const servers: RunningServer[] = [];
  const worker = new IpcClient(forkTs('bench/support/socket-worker.ts'));
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await startConfab(env));
    }
    const apis = servers.map((s) => new Api(s.url));
    const streams = STREAMS_PER_INSTANCE * count;
    // One user per reply: its follower socket on instance i % count, its sender on the next instance.
    const users = await mapLimit(Array.from({ length: streams }), 8, (_, i) =>
      apis[0].signup(`${tag}-${i}@bench.local`),
    );
    const threads = await mapLimit(users, 8, (u, i) => apis[0].createThread(u.token, `scale ${i}`));
    const followerOn = (i: number) => i % count;
    const senderOn = (i: number) => (i + 1) % count;
    // Socket k of the worker: followers are 0..streams-1, senders streams..2*streams-1 (connect order per instance).
    const sockets: { instance: number; token: string; role: 'follower' | 'sender'; stream: number }[] = [];
    users.forEach((u, i) => sockets.push({ instance: followerOn(i), token: u.token, role: 'follower', stream: i }));
    users.forEach((u, i) => sockets.push({ instance: senderOn(i), token: u.token, role: 'sender', stream: i }));
    const index = new Map<string, number>();
    for (let instance = 0; instance < count; instance++) {
      const mine = sockets.filter((s) => s.instance === instance);
      const r = await worker.request<{ start: number; connected: number; failed: number; firstError: string | null }>(
        { type: 'connect', url: servers[instance].url, tokens: mine.map((s) => s.token), concurrency: 20 },
        120_000,
      );
      if (r.failed > 0) {
        throw new Error(`could not connect: ${r.firstError}`);
      }
      mine.forEach((s, k) => index.set(`${s.role}:${s.stream}`, r.start + k));
    }
    const before = await Promise.all(servers.map((s) => received(s.url)));
    const cpuBefore = servers.map((s) => cpuMs(s.child.pid!));
    const redisCpuBefore = cpuMs(redisPid(redis));
    const countersBefore = await redisCounters(redis.url);
    const started = Date.now();
    log(`${mode}: ${count} instance(s), ${streams} replies of ${TOKENS} tokens, followed one instance away`);
    const result = await worker.request<RunResult>(
      {
        type: 'run',
        joins: threads.map((threadId, i) => ({ socket: index.get(`follower:${i}`)!, threadId })),
        sends: threads.map((threadId, i) => ({
          socket: index.get(`sender:${i}`)!,
          threadId,
          content: benchPrompt(`${tag}-${i}`, TOKENS, TOKEN_DELAY_MS),
          at: (i * RAMP_MS) / streams,
        })),
        watch: threads.map((threadId, i) => ({ socket: index.get(`follower:${i}`)!, threadId })),
        timeoutMs: RAMP_MS + TOKENS * TOKEN_DELAY_MS + 60_000,
      },
      RAMP_MS + TOKENS * TOKEN_DELAY_MS + 120_000,
    );
    const seconds = (Date.now() - started) / 1000;
    const cpuUsed = servers.map((s, i) => cpuMs(s.child.pid!) - cpuBefore[i]);
    const redisCpuUsed = cpuMs(redisPid(redis)) - redisCpuBefore;
    const countersAfter = await redisCounters(redis.url);
    const after = await Promise.all(servers.map((s) => received(s.url)));
    await upstream.forget();

    const expected = benchTokens(TOKENS).join('');
    const problems = [...result.joinErrors, ...result.sendErrors, ...(result.timedOut ? ['timed out'] : [])];
    const deltas = servers.map(() => 0);
    const tokens = servers.map(() => 0);
    for (const reply of result.replies) {
      const stream = threads.indexOf(reply.threadId);
      deltas[followerOn(stream)] += reply.seqs.length;
      tokens[followerOn(stream)] += TOKENS;
      if (reply.seqs.some((seq, k) => seq !== k + 1)) {
        problems.push(`${reply.threadId}: seq gap or reorder`);
      } else if (reply.content !== expected || reply.done?.content !== expected) {
        problems.push(`${reply.threadId}: content mismatch (${reply.content.length}/${expected.length} chars)`);
      }
    }
    const perInstance = servers.map((_, i) => {
      const followed = after[i].followed - before[i].followed;
      const total = followed + after[i].other - before[i].other;
      return {
        received: total,
        perSecond: total / seconds,
        share: total === 0 ? 1 : followed / total,
        tokens: tokens[i],
        deltas: deltas[i],
        cpuUsPerToken: (cpuUsed[i] * 1000) / Math.max(1, tokens[i]),
      };
    });
    const allTokens = tokens.reduce((a, b) => a + b, 0);
    const allDeltas = deltas.reduce((a, b) => a + b, 0);
    return {
      mode,
      instances: count,
      perInstance,
      problems,
      redisUsPerToken: (redisCpuUsed * 1000) / Math.max(1, allTokens),
      deltasPerToken: allDeltas / Math.max(1, allTokens),
      execsPerDelta: (countersAfter.execs - countersBefore.execs) / Math.max(1, allDeltas),
      commandsPerDelta: (countersAfter.commands - countersBefore.commands) / Math.max(1, allDeltas),
      load: loadavg()[0],
    } satisfies Figures;
  } finally {
    await worker.close();
    await Promise.all(servers.map((s) => s.stop()));
    removeDir(dataDir);
  }
}

/** The redis-server process's pid (RedisProcess keeps its child private). */
function redisPid(redis: RedisProcess): number {
  return (redis as unknown as { child: { pid: number } }).child.pid;
}

function rowsOf(figures: Figures[], mode: Mode): Row[] {
  const rows: Row[] = [];
  for (const f of figures.filter((x) => x.mode === mode)) {
    f.perInstance.forEach((p, i) => {
      rows.push({
        figure: `${mode}, ${f.instances} instance(s): instance ${i + 1}`,
        value:
          `${p.perSecond.toFixed(0)} Redis messages/s received (${p.received} in all, ` +
          `${(p.received / Math.max(1, p.deltas)).toFixed(2)} per delta its sockets got), ` +
          `${(p.share * 100).toFixed(1)} % with a local listener; ${p.tokens} tokens (${p.deltas} deltas) relayed ` +
          `to its sockets, ` +
          `${p.cpuUsPerToken.toFixed(0)} us server CPU per relayed token`,
        ...(mode === 'sharded' ? { goal: `share >= ${SHARE_GOAL * 100} %`, pass: p.share >= SHARE_GOAL } : {}),
      });
    });
    rows.push({
      figure: `${mode}, ${f.instances} instance(s): Redis`,
      value:
        `redis-server ${f.redisUsPerToken.toFixed(1)} us CPU per token generated ` +
        `(${(f.redisUsPerToken / Math.max(0.01, f.deltasPerToken)).toFixed(1)} us per delta); ` +
        `${f.deltasPerToken.toFixed(2)} deltas per token; ${f.execsPerDelta.toFixed(2)} transactions (EXEC) and ` +
        `${f.commandsPerDelta.toFixed(2)} commands per delta; load ${f.load.toFixed(2)}`,
    });
    if (f.problems.length > 0) {
      rows.push({
        figure: `${mode}, ${f.instances} instance(s): delivery`,
        value: `${f.problems.length} PROBLEMS: ${f.problems.slice(0, 2).join('; ')}`,
        goal: 'no loss, no reorder',
        pass: false,
      });
    }
  }
  // Inbound per delta relayed: the pipeline merges more tokens into one delta on a busier machine, and the same load
  // takes longer there, so messages per second alone would mix the machine's state into the instance count.
  const perDelta = (f: Figures | undefined) =>
    f
      ? f.perInstance.reduce((n, p) => n + p.received, 0) /
        Math.max(
          1,
          f.perInstance.reduce((n, p) => n + p.deltas, 0),
        )
      : Number.NaN;
  const perSecond = (f: Figures | undefined) =>
    f ? f.perInstance.reduce((n, p) => n + p.perSecond, 0) / f.perInstance.length : Number.NaN;
  const at = (n: number) => figures.find((x) => x.mode === mode && x.instances === n);
  const growth = perDelta(at(4)) / perDelta(at(1));
  rows.push({
    figure: `${mode}: inbound per instance as instances are added (1 -> 2 -> 4)`,
    value:
      `${INSTANCE_COUNTS.map((n) => perDelta(at(n)).toFixed(2)).join(' -> ')} messages received per delta relayed ` +
      `(${growth.toFixed(2)} x at 4); ${INSTANCE_COUNTS.map((n) => perSecond(at(n)).toFixed(0)).join(' -> ')} ` +
      `messages/s`,
    ...(mode === 'sharded' ? { goal: `4 instances <= ${FLAT_GOAL} x 1 (flat)`, pass: growth <= FLAT_GOAL } : {}),
  });
  return rows;
}

async function main(cleanups: Cleanups): Promise<void> {
  process.stdout.write(`# confab scale-out benchmark${QUICK ? ' (QUICK: reduced sizes, not for figures)' : ''}\n\n`);
  process.stdout.write(
    `machine: ${machineLine()}\n` +
      `load per instance: ${STREAMS_PER_INSTANCE} replies at once, ${TOKENS} tokens each at ` +
      `${1000 / TOKEN_DELAY_MS} tokens/s, each followed by one socket one instance away from where it is generated\n`,
  );
  if (!redisServerAvailable()) {
    throw new Error('bench:scale needs redis-server (apt-get install -y redis-server)');
  }
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const redis = await RedisProcess.start();
  cleanups.push(() => redis.kill());
  const figures: Figures[] = [];
  let step = 0;
  for (const mode of MODES) {
    for (const count of INSTANCE_COUNTS) {
      figures.push(await measure(mode, count, upstream, redis, `s${++step}`));
    }
  }
  printTable('Baseline: one channel for every thread event (REDIS_THREAD_CHANNELS=single)', rowsOf(figures, 'single'));
  printTable(
    'Sharded channels (the default): a channel per thread, subscribed while followed',
    rowsOf(figures, 'sharded'),
  );
}

runBenchmark('bench:scale', main);
