/**
 * `npm run bench:pipeline`: the generation pipeline's figures (issue 4), against the fake OpenAI-compatible upstream
 * in its own process, with the built server in its own process and this process as the client.
 *
 *  1. added time to first token: confab's first SSE `delta` minus the first content chunk at a direct `openai` SDK
 *     client on the same upstream (the baseline, measured in the same run), at 1 stream and at 100 concurrent streams;
 *     and the same SDK pointed at confab's OpenAI-compatible `/v1` with a personal API key, at 1 stream; and, as the
 *     physical limit of the 1-stream figure, the bare relay (bench/support/bare-relay.process.ts `POST /relay`: one
 *     more HTTP hop and a plain SSE relay, nothing else) against the same direct SDK;
 *  2. per-token relay delay: upstream chunk written -> delta received here (the direct SDK client's delay is the floor);
 *  3. database writes to the reply's row for one 500-token reply (counted by SQLite triggers added to this run's
 *     own database file);
 *  4. thread listing, message paging and full-text search latency over HTTP with 100k threads and ~1M messages in
 *     the embedded database (the searched user owns 20,000 threads, ~200k messages).
 *
 * BENCH_QUICK=1 runs a reduced version (for checking the benchmark itself, not for figures); BENCH_ONLY=streaming
 * runs only 1 and 2 (the latency figures), without the database parts; BENCH_ONLY=writes only 3; BENCH_ONLY=listing
 * only 4 (with search).
 */
import Database from 'better-sqlite3';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { tempDir } from '../test/support/server-process';
import { Api, mapLimit, timedSse } from './support/client';
import { loadDataset } from './support/dataset';
import {
  cpuMeter,
  formatCpu,
  machineLine,
  removeDir,
  serverEnv,
  startBareRelay,
  startConfab,
  startUpstream,
  type Upstream,
  type Cleanups,
  runBenchmark,
} from './support/processes';
import { bytes, log, ms, printTable, ratio, type Row, summarize } from './support/stats';
import { type Arrival, benchPrompt, benchTokens, tokenDelays } from './support/tokens';

const QUICK = process.env.BENCH_QUICK === '1';
const STREAMING_ONLY = process.env.BENCH_ONLY === 'streaming';
const LISTING_ONLY = process.env.BENCH_ONLY === 'listing';
const WRITES_ONLY = process.env.BENCH_ONLY === 'writes';
/**
 * Sends of each kind before the 1-stream TTFT is measured: V8 optimizes a function only after many calls, and 10
 * sends left the server's hot path unoptimized (4.0 ms of server CPU per send against 2.5 ms after 300; the
 * first 100 sends after a start are reported apart, as the just-started figure).
 */
const WARM_SENDS = QUICK ? 20 : Number(process.env.BENCH_WARM ?? 300);
/** Reply length of the concurrent streams: 200 tokens at 50 tokens/s, 4 s. */
const CONCURRENT_TOKENS = 200;

/** One stream as a client saw it. */
interface Sample {
  tag: string;
  t0: bigint;
  /** Arrival of the first content. */
  first: bigint | null;
  arrivals: Arrival[];
  ok: boolean;
  problem?: string;
  assistantId?: string;
  /** From the upstream's records: when it had the whole request, and when it wrote the first token. */
  upstreamReceived?: bigint;
  upstreamFirst?: bigint;
}

let tagCounter = 0;
const nextTag = (prefix: string) => `${prefix}${++tagCounter}`;

/** A reply streamed through confab (SSE), checked for consecutive seq and content equal to the upstream's. */
async function confabStream(api: Api, token: string, threadId: string, count: number, delayMs: number) {
  return sseStream(`${api.baseUrl}/api/threads/${threadId}/messages`, token, 'c', count, delayMs);
}

/** The same reply through the bare relay's `POST /relay` (its SSE speaks confab's `delta` and `done`). */
async function bareStream(bareUrl: string, count: number, delayMs: number) {
  return sseStream(`${bareUrl}/relay`, 'none', 'b', count, delayMs);
}

async function sseStream(url: string, token: string, prefix: string, count: number, delayMs: number) {
  const tag = nextTag(prefix);
  const expected = benchTokens(count).join('');
  const r = await timedSse(url, token, { content: benchPrompt(tag, count, delayMs) });
  const deltas = r.events.filter((e) => e.event === 'delta');
  const done = r.events.find((e) => e.event === 'done');
  const created = r.events.find((e) => e.event === 'created');
  const content = deltas.map((d) => d.data.delta as string).join('');
  let problem: string | undefined;
  if (r.status !== 200) {
    problem = `HTTP ${r.status}`;
  } else if (deltas.some((d, i) => d.data.seq !== i + 1)) {
    problem = 'seq gap or reorder';
  } else if (!done || done.data.content !== content || content !== expected) {
    problem = done ? 'content mismatch' : 'no done event';
  }
  const sample: Sample = {
    tag,
    t0: r.t0,
    first: deltas[0]?.t ?? null,
    arrivals: deltas.map((d) => ({ len: (d.data.delta as string).length, t: d.t })),
    ok: problem === undefined,
    problem,
    assistantId: created?.data.id as string | undefined,
  };
  return sample;
}

/**
 * The same reply through the official SDK (`stream: true`): straight from the upstream, or (`prefix` 'v') through
 * confab's `/v1` when `sdk` points there.
 */
async function directStream(sdk: OpenAI, count: number, delayMs: number, prefix = 'd'): Promise<Sample> {
  const tag = nextTag(prefix);
  const arrivals: Arrival[] = [];
  let content = '';
  const t0 = process.hrtime.bigint();
  const stream = await sdk.chat.completions.create({
    model: 'bench',
    messages: [{ role: 'user', content: benchPrompt(tag, count, delayMs) }],
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    const t = process.hrtime.bigint();
    const text = chunk.choices[0]?.delta?.content;
    if (text) {
      arrivals.push({ len: text.length, t });
      content += text;
    }
  }
  const ok = content === benchTokens(count).join('');
  return { tag, t0, first: arrivals[0]?.t ?? null, arrivals, ok, problem: ok ? undefined : 'content mismatch' };
}

const ttft = (s: Sample) => (s.first === null ? Number.NaN : Number(s.first - s.t0) / 1e6);

/** Per-token delays of the samples, from the upstream's recorded send times (also noted on each sample). */
async function relayDelays(upstream: Upstream, samples: Sample[], sinceId: number): Promise<number[]> {
  const byTag = new Map((await upstream.stats(sinceId)).map((r) => [r.tag, r]));
  const delays: number[] = [];
  for (const s of samples) {
    const r = byTag.get(s.tag);
    if (r) {
      s.upstreamReceived = r.receivedAt;
      s.upstreamFirst = r.tokenTimes[0];
      delays.push(...tokenDelays(r.tokenTimes, s.arrivals));
    }
  }
  return delays;
}

const lastUpstreamId = async (upstream: Upstream) => (await upstream.stats()).at(-1)?.id ?? 0;

/**
 * `concurrency` clients each running `rounds` streams back to back (a closed loop), their first starts spread
 * over `spreadMs` so that arrivals are uniform; round 0 warms up and is not counted.
 */
async function closedLoop(
  concurrency: number,
  rounds: number,
  spreadMs: number,
  run: (client: number, round: number) => Promise<Sample>,
): Promise<Sample[]> {
  const counted: Sample[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      await new Promise((r) => setTimeout(r, (client * spreadMs) / concurrency));
      for (let round = 0; round < rounds; round++) {
        const s = await run(client, round);
        if (round > 0) {
          counted.push(s);
        }
      }
    }),
  );
  return counted;
}

function failures(samples: Sample[]): string {
  const bad = samples.filter((s) => !s.ok);
  return bad.length === 0 ? '' : `; ${bad.length} FAILED streams (${bad[0].problem})`;
}

let warmUpAccounts: Promise<{ token: string }[]> | null = null;
/** Users for the warm-up sends (signed up once). */
function warmUpUsers(api: Api): Promise<{ token: string }[]> {
  warmUpAccounts ??= Promise.all(Array.from({ length: 4 }, (_, i) => api.signup(`bench-warm-${i}@bench.local`)));
  return warmUpAccounts;
}

/** 1 stream at a time, confab and direct interleaved (alternating which goes first), a new thread each time. */
async function oneStreamTtft(
  api: Api,
  token: string,
  sdk: OpenAI,
  upstream: Upstream,
  n: number,
): Promise<[Sample[], Sample[]]> {
  const since = await lastUpstreamId(upstream);
  const confab: Sample[] = [];
  const direct: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const threadId = await api.createThread(token, 'ttft');
    if (i % 2 === 0) {
      confab.push(await confabStream(api, token, threadId, 8, 2));
      direct.push(await directStream(sdk, 8, 2));
    } else {
      direct.push(await directStream(sdk, 8, 2));
      confab.push(await confabStream(api, token, threadId, 8, 2));
    }
  }
  await relayDelays(upstream, [...confab, ...direct], since);
  return [confab, direct];
}

async function timeToFirstToken(
  api: Api,
  token: string,
  sdk: OpenAI,
  upstream: Upstream,
  serverPid: number,
  bareUrl: string,
): Promise<{ rows: Row[]; concurrent: ConcurrentRelay }> {
  const rows: Row[] = [];
  // Connection pools and prepared statements; then the first sends after the start, reported apart.
  for (let i = 0; i < 10; i++) {
    await confabStream(api, token, await api.createThread(token, 'warm-up'), 8, 2);
    await directStream(sdk, 8, 2);
  }
  const n = QUICK ? 10 : 100;
  log(`TTFT at 1 stream, just started: ${n} samples each`);
  const cold = await oneStreamTtft(api, token, sdk, upstream, n);
  rows.push(
    ...ttftRows(
      '1 stream, just started (sends 11-110 of the process: V8 has not optimized them yet)',
      ...cold,
      null,
      true,
    ),
  );
  // The steady state a running server is in: V8 has optimized the hot path (see WARM_SENDS).
  // Spread over users: one user's sends are rate-limited (20 a second).
  const warmUsers = await warmUpUsers(api);
  for (let i = 0; i < WARM_SENDS; i++) {
    const user = warmUsers[i % warmUsers.length].token;
    await confabStream(api, user, await api.createThread(user, 'warm-up'), 8, 2);
    await directStream(sdk, 8, 2);
  }
  log(`TTFT at 1 stream, after ${WARM_SENDS} more sends: ${n} samples each`);
  const [confab, direct] = await oneStreamTtft(api, token, sdk, upstream, n);
  rows.push(...ttftRows('1 stream', confab, direct, { median: 2, p95: 5 }, true));
  rows.push(...(await bareTtft(bareUrl, sdk, upstream, n, confab)));
  rows.push(...(await openAiTtft(api, token, sdk, upstream, n)));

  // 100 concurrent streams: closed loops of 200-token replies at 50 tokens/s (4 s each), the clients' first starts
  // spread over one reply's duration, so about 25 new streams start every second while 100 are streaming.
  const concurrency = QUICK ? 20 : 100;
  const rounds = QUICK ? 2 : 3;
  const tokens = QUICK ? 50 : CONCURRENT_TOKENS;
  const spreadMs = tokens * 20;
  log(`TTFT at ${concurrency} concurrent streams: ${concurrency} clients x ${rounds - 1} counted rounds each side`);
  const sinceDirect = await lastUpstreamId(upstream);
  const directMeter = cpuMeter({ server: serverPid, upstream: upstream.pid, client: process.pid });
  const directConc = await closedLoop(concurrency, rounds, spreadMs, () => directStream(sdk, tokens, 20));
  const directCpu = directMeter.stop();
  const threads = await mapLimit(
    Array.from({ length: concurrency * rounds }),
    10,
    async () => await api.createThread(token, 'concurrent'),
  );
  const sinceConfab = await lastUpstreamId(upstream);
  const confabMeter = cpuMeter({ server: serverPid, upstream: upstream.pid, client: process.pid });
  const confabConc = await closedLoop(concurrency, rounds, spreadMs, (client, round) =>
    confabStream(api, token, threads[client * rounds + round], tokens, 20),
  );
  const confabCpu = confabMeter.stop();
  // Relay delays of those concurrent streams (reported with the relay figures).
  const concurrent: ConcurrentRelay = {
    concurrency,
    tokens,
    cpu: `confab phase: ${formatCpu(confabCpu)}; direct phase: ${formatCpu(directCpu)}`,
    confab: await relayDelays(upstream, confabConc, sinceConfab),
    direct: await relayDelays(upstream, directConc, sinceDirect),
  };
  rows.push(
    ...ttftRows(`${concurrency} concurrent ${tokens}-token streams`, confabConc, directConc, { median: 5, p95: 15 }),
  );
  return { rows, concurrent };
}

/**
 * The physical limit of the 1-stream figure: the bare relay's `POST /relay` (an HTTP hop with a plain SSE relay, no
 * framework, no database) against the SDK on the upstream, interleaved the same way; and confab's median over it.
 */
async function bareTtft(bareUrl: string, sdk: OpenAI, upstream: Upstream, n: number, confab: Sample[]): Promise<Row[]> {
  for (let i = 0; i < 10 + WARM_SENDS; i++) {
    await bareStream(bareUrl, 8, 2);
  }
  log(`TTFT through the bare relay at 1 stream: ${n} samples each`);
  const since = await lastUpstreamId(upstream);
  const bare: Sample[] = [];
  const direct: Sample[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      bare.push(await bareStream(bareUrl, 8, 2));
      direct.push(await directStream(sdk, 8, 2));
    } else {
      direct.push(await directStream(sdk, 8, 2));
      bare.push(await bareStream(bareUrl, 8, 2));
    }
  }
  await relayDelays(upstream, [...bare, ...direct], since);
  const c = summarize(confab.map(ttft));
  const b = summarize(bare.map(ttft));
  return [
    ...ttftRows('1 stream through the bare relay (an HTTP hop and nothing else)', bare, direct, null, true),
    {
      figure: 'confab over the bare relay, 1 stream (what confab itself adds beyond the hop)',
      value: `median ${ms(c.p50 - b.p50)} (confab ${ms(c.p50)} vs bare relay ${ms(b.p50)}), p95 ${ms(c.p95 - b.p95)}`,
    },
  ];
}

/** The SDK on confab's `/v1` with a personal key against the SDK on the upstream, 1 stream, interleaved. */
async function openAiTtft(api: Api, token: string, sdk: OpenAI, upstream: Upstream, n: number): Promise<Row[]> {
  const { key } = await api.json<{ key: string }>('POST', '/auth/me/keys', { name: 'bench' }, token);
  const v1 = new OpenAI({ apiKey: key, baseURL: `${api.baseUrl}/v1`, maxRetries: 0 });
  const warm = await Promise.all(
    (await warmUpUsers(api)).map(async (u) => {
      const k = await api.json<{ key: string }>('POST', '/auth/me/keys', { name: 'bench' }, u.token);
      return new OpenAI({ apiKey: k.key, baseURL: `${api.baseUrl}/v1`, maxRetries: 0 });
    }),
  );
  for (let i = 0; i < 10 + WARM_SENDS; i++) {
    await directStream(warm[i % warm.length], 8, 2, 'v');
  }
  await directStream(v1, 8, 2, 'v'); // the measured key's own connection and key lookup, untimed
  log(`TTFT through /v1 at 1 stream: ${n} samples each`);
  const since = await lastUpstreamId(upstream);
  const through: Sample[] = [];
  const direct: Sample[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      through.push(await directStream(v1, 8, 2, 'v'));
      direct.push(await directStream(sdk, 8, 2));
    } else {
      direct.push(await directStream(sdk, 8, 2));
      through.push(await directStream(v1, 8, 2, 'v'));
    }
  }
  await relayDelays(upstream, [...through, ...direct], since);
  return ttftRows('1 stream through /v1 (OpenAI SDK on confab)', through, direct, { median: 5, p95: 15 }, true);
}

interface ConcurrentRelay {
  concurrency: number;
  tokens: number;
  cpu: string;
  confab: number[];
  direct: number[];
}

/**
 * `goals`: the added TTFT's bounds (ms); `interleaved`: the i-th confab and direct samples ran back to back, so
 * their difference is reported too. Every row carries the load average (the machine is shared).
 */
function ttftRows(
  label: string,
  confab: Sample[],
  direct: Sample[],
  goals: { median: number; p95: number } | null,
  interleaved = false,
): Row[] {
  const load = `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
  const c = summarize(confab.map(ttft));
  const d = summarize(direct.map(ttft));
  const addedMedian = c.p50 - d.p50;
  const addedP95 = c.p95 - d.p95;
  const paired = interleaved ? summarize(confab.map((s, i) => ttft(s) - ttft(direct[i]))).p50 : Number.NaN;
  const note = failures([...confab, ...direct]);
  const median = (
    samples: Sample[],
    from: (s: Sample) => bigint | undefined,
    to: (s: Sample) => bigint | null | undefined,
  ) =>
    summarize(
      samples.flatMap((s) => {
        const a = from(s);
        const b = to(s);
        return a !== undefined && b !== undefined && b !== null ? [Number(b - a) / 1e6] : [];
      }),
    ).p50;
  const before = (samples: Sample[]) =>
    median(
      samples,
      (s) => s.t0,
      (s) => s.upstreamReceived,
    );
  const after = (samples: Sample[]) =>
    median(
      samples,
      (s) => s.upstreamFirst,
      (s) => s.first,
    );
  return [
    {
      figure: `added TTFT, ${label}, median (n=${c.n})`,
      value:
        `${ms(addedMedian)} (confab ${ms(c.p50)} vs direct SDK ${ms(d.p50)}, ${ratio(c.p50, d.p50)}` +
        `${Number.isFinite(paired) ? `; paired diff ${ms(paired)}` : ''}; ${load})${note}`,
      ...(goals ? { goal: `<= ${goals.median} ms`, pass: addedMedian <= goals.median && note === '' } : {}),
    },
    {
      figure: `added TTFT, ${label}, p95`,
      value: `${ms(addedP95)} (confab ${ms(c.p95)} vs direct SDK ${ms(d.p95)}, ${ratio(c.p95, d.p95)})`,
      ...(goals ? { goal: `<= ${goals.p95} ms`, pass: addedP95 <= goals.p95 && note === '' } : {}),
    },
    {
      figure: `TTFT breakdown, ${label} (medians)`,
      value:
        `request start -> upstream has the request: confab ${ms(before(confab))} vs direct ${ms(before(direct))}; ` +
        `upstream writes first token -> client has it: confab ${ms(after(confab))} vs direct ${ms(after(direct))}`,
    },
  ];
}

async function relay(
  api: Api,
  token: string,
  sdk: OpenAI,
  upstream: Upstream,
  concurrentRelay: ConcurrentRelay,
): Promise<Row[]> {
  const streams = QUICK ? 1 : 3;
  const tokens = 300;
  log(`per-token relay at 1 stream: ${streams} x ${tokens} tokens at 10 ms`);
  const since = await lastUpstreamId(upstream);
  const confab: Sample[] = [];
  for (let i = 0; i < streams; i++) {
    confab.push(await confabStream(api, token, await api.createThread(token, 'relay'), tokens, 10));
  }
  const direct = [await directStream(sdk, tokens, 10)];
  const c = summarize(await relayDelays(upstream, confab, since));
  const d = summarize(await relayDelays(upstream, direct, since));
  const note = failures([...confab, ...direct]);
  const cc = summarize(concurrentRelay.confab);
  const dc = summarize(concurrentRelay.direct);
  return [
    {
      figure: `per-token relay, 1 stream, median (n=${c.n} tokens)`,
      value: `${ms(c.p50)} (direct SDK floor ${ms(d.p50)}, ${ratio(c.p50, d.p50)})${note}`,
      goal: '<= 1 ms',
      pass: c.p50 <= 1 && note === '',
    },
    {
      figure: 'per-token relay, 1 stream, p99',
      value: `${ms(c.p99)} (direct SDK floor ${ms(d.p99)}, ${ratio(c.p99, d.p99)}; max ${ms(c.max)})`,
      goal: '<= 5 ms',
      pass: c.p99 <= 5 && note === '',
    },
    {
      figure: `per-token relay, ${concurrentRelay.concurrency} concurrent ${concurrentRelay.tokens}-token streams (n=${cc.n})`,
      value:
        `median ${ms(cc.p50)}, p99 ${ms(cc.p99)} (direct SDK floor median ${ms(dc.p50)}, p99 ${ms(dc.p99)}; ` +
        `${ratio(cc.p50, dc.p50)} / ${ratio(cc.p99, dc.p99)})`,
    },
    {
      figure: `CPU at ${concurrentRelay.concurrency} concurrent streams (% of one core)`,
      value: concurrentRelay.cpu,
    },
  ];
}

/** SQL that records every write to messages and threads rows in a side table of this run's own database. */
const WRITE_TRIGGERS = `
  CREATE TABLE bench_writes (n INTEGER PRIMARY KEY, tbl TEXT, op TEXT, row_id TEXT, content_len INTEGER, status TEXT);
  CREATE TRIGGER bench_messages_insert AFTER INSERT ON messages BEGIN
    INSERT INTO bench_writes (tbl, op, row_id, content_len, status)
    VALUES ('messages', 'insert', new.id, length(new.content), new.status);
  END;
  CREATE TRIGGER bench_messages_update AFTER UPDATE ON messages BEGIN
    INSERT INTO bench_writes (tbl, op, row_id, content_len, status)
    VALUES ('messages', 'update', new.id, length(new.content), new.status);
  END;
  CREATE TRIGGER bench_threads_update AFTER UPDATE ON threads BEGIN
    INSERT INTO bench_writes (tbl, op, row_id) VALUES ('threads', 'update', new.id);
  END;
`;

async function databaseWrites(upstream: Upstream): Promise<Row[]> {
  const dataDir = tempDir('confab-bench-writes-');
  try {
    // The server creates the schema; stopped, the triggers are added to this run's database file; restarted.
    const first = await startConfab(serverEnv(dataDir, upstream.baseUrl));
    await new Api(first.url).signup('bench-writes@bench.local');
    await first.stop();
    const setup = new Database(join(dataDir, 'confab.db'));
    setup.exec(WRITE_TRIGGERS);
    setup.close();
    const server = await startConfab(serverEnv(dataDir, upstream.baseUrl));
    const api = new Api(server.url);
    const { token } = await api.login('bench-writes@bench.local');
    const replies = QUICK ? 1 : 3;
    log(`database writes: ${replies} replies of 500 tokens at 10 ms`);
    const since = await lastUpstreamId(upstream);
    const samples: { sample: Sample; threadId: string }[] = [];
    for (let i = 0; i < replies; i++) {
      const threadId = await api.createThread(token, 'writes');
      samples.push({ sample: await confabStream(api, token, threadId, 500, 10), threadId });
    }
    await server.stop();
    const byTag = new Map((await upstream.stats(since)).map((r) => [r.tag, r.tokenTimes]));
    const db = new Database(join(dataDir, 'confab.db'), { readonly: true });
    const count = db.prepare(
      `SELECT COALESCE(SUM(op = 'insert'), 0) AS inserts, COALESCE(SUM(op = 'update'), 0) AS updates
       FROM bench_writes WHERE row_id = ?`,
    );
    type Counts = { inserts: number; updates: number };
    const runs = samples.map(({ sample, threadId }) => {
      const reply = count.get(sample.assistantId ?? '') as Counts;
      const thread = count.get(threadId) as Counts;
      const times = byTag.get(sample.tag) ?? [];
      // The stream's duration: the upstream's first token written to its last.
      const durationMs = times.length > 1 ? Number(times[times.length - 1] - times[0]) / 1e6 : Number.NaN;
      return { reply, thread, durationMs, goal: 1 + durationMs / 250 };
    });
    db.close();
    const note = failures(samples.map((s) => s.sample));
    // The goal bounds the writes of the growing text and the final write: the content/status updates of the row.
    // Its creation (the `streaming` placeholder, required from the start) is one insert before the stream.
    const worst = runs.reduce((w, r) => (r.reply.updates - r.goal > w.reply.updates - w.goal ? r : w), runs[0]);
    return [
      {
        figure: `database writes to the reply's row per 500-token reply (worst of ${runs.length})`,
        value:
          `${worst.reply.updates} updates (flushes of the growing text + the final write); ` +
          `plus ${worst.reply.inserts} insert of the placeholder before the stream${note}`,
        goal: `<= 1 + ${(worst.durationMs / 1000).toFixed(2)} s / 250 ms = ${worst.goal.toFixed(1)}`,
        pass: worst.reply.updates <= worst.goal && note === '',
      },
      {
        figure: 'each reply: row writes (insert + updates) / thread row updates / stream duration',
        value: runs
          .map(
            (r) =>
              `${r.reply.inserts} + ${r.reply.updates} / ${r.thread.updates} / ${(r.durationMs / 1000).toFixed(2)} s`,
          )
          .join('; '),
      },
    ];
  } finally {
    removeDir(dataDir);
  }
}

async function timeRequests(api: Api, token: string, paths: () => string, count: number): Promise<number[]> {
  for (let i = 0; i < 20; i++) {
    await api.json('GET', paths(), undefined, token);
  }
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const path = paths();
    const t0 = process.hrtime.bigint();
    await api.json('GET', path, undefined, token);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

function latencyRow(figure: string, times: number[], goal = true): Row {
  const s = summarize(times);
  return {
    figure: `${figure} (n=${s.n})`,
    value: `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${ms(s.max)}`,
    ...(goal ? { goal: 'p95 <= 10 ms', pass: s.p95 <= 10 } : {}),
  };
}

async function listingAndPaging(upstream: Upstream): Promise<Row[]> {
  const dataDir = tempDir('confab-bench-large-');
  try {
    const first = await startConfab(serverEnv(dataDir, upstream.baseUrl));
    const heavy = await new Api(first.url).signup('bench-heavy@bench.local');
    await first.stop();
    const shape = {
      heavyUserId: heavy.userId,
      threads: QUICK ? 10_000 : 100_000,
      heavyEvery: 5,
      otherUsers: 80,
      turns: 5,
      branchEvery: 10,
      longThreads: 10,
      longTurns: 500,
    };
    log(`loading ${shape.threads} threads into ${dataDir}`);
    const data = loadDataset(join(dataDir, 'confab.db'), shape);
    log(`loaded ${data.messages} messages in ${(data.loadMs / 1000).toFixed(1)} s`);
    const server = await startConfab(serverEnv(dataDir, upstream.baseUrl));
    const api = new Api(server.url);
    const { token } = await api.login('bench-heavy@bench.local');
    const n = QUICK ? 100 : 500;
    const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)];

    const rows: Row[] = [
      {
        figure: 'dataset',
        value:
          `${data.users} users, ${data.threads} threads, ${data.messages} messages; the listed user owns ` +
          `${data.heavyThreads} threads (${data.longThreadIds.length} of ${shape.longTurns * 2} messages, the rest ` +
          `${shape.turns * 2} or ${shape.turns * 2 + 1} with a regenerated branch every ${shape.branchEvery}th); ` +
          `user messages 6-14 words, answers 15-45`,
      },
      {
        figure: 'dataset load time (better-sqlite3, FTS triggers firing)',
        value: `${(data.loadMs / 1000).toFixed(1)} s; database file ${bytes(data.dbBytes)}`,
        goal: '< ~3 min',
        pass: data.loadMs < 180_000,
      },
    ];
    const meter = cpuMeter({ server: server.child.pid!, upstream: upstream.pid, client: process.pid });
    log('listing: first page');
    rows.push(
      latencyRow('GET /threads?limit=20, first page', await timeRequests(api, token, () => '/threads?limit=20', n)),
    );

    log('listing: walking every page');
    const cursors: string[] = [];
    const walk: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 2000; page++) {
      const path = `/threads?limit=20${cursor ? `&cursor=${cursor}` : ''}`;
      const t0 = process.hrtime.bigint();
      const r: { nextCursor: string | null } = await api.json('GET', path, undefined, token);
      if (cursor) {
        walk.push(Number(process.hrtime.bigint() - t0) / 1e6);
        cursors.push(cursor);
      }
      cursor = r.nextCursor;
      if (!cursor) {
        break;
      }
    }
    rows.push(latencyRow(`GET /threads?limit=20&cursor=, every page 2..${walk.length + 1} in turn`, walk));
    const deep = cursors.slice(Math.floor(cursors.length / 2));
    rows.push(
      latencyRow(
        `GET /threads?limit=20&cursor=, random deep cursors (pages ${cursors.length - deep.length + 2}..${cursors.length + 1})`,
        await timeRequests(api, token, () => `/threads?limit=20&cursor=${pick(deep)}`, n),
      ),
    );

    log('message paging');
    rows.push(
      latencyRow(
        `GET /threads/:id/messages?limit=50, ${shape.turns * 2}-message threads`,
        await timeRequests(api, token, () => `/threads/${pick(data.sampleThreadIds)}/messages?limit=50`, n),
      ),
    );
    rows.push(
      latencyRow(
        `GET /threads/:id/messages?limit=50, ${shape.longTurns * 2}-message threads, newest page`,
        await timeRequests(api, token, () => `/threads/${pick(data.longThreadIds)}/messages?limit=50`, n),
      ),
    );
    // Every `before` position of every long thread, collected by paging them through.
    const befores: { threadId: string; before: string }[] = [];
    for (const threadId of data.longThreadIds) {
      let before: string | null = null;
      for (let page = 0; page < 100; page++) {
        const path = `/threads/${threadId}/messages?limit=50${before ? `&before=${before}` : ''}`;
        const r: { nextBefore: string | null } = await api.json('GET', path, undefined, token);
        before = r.nextBefore;
        if (!before) {
          break;
        }
        befores.push({ threadId, before });
      }
    }
    rows.push(
      latencyRow(
        `GET /threads/:id/messages?limit=50&before=, ${shape.longTurns * 2}-message threads, random older pages`,
        await timeRequests(
          api,
          token,
          () => {
            const b = pick(befores);
            return `/threads/${b.threadId}/messages?limit=50&before=${b.before}`;
          },
          n,
        ),
      ),
    );

    rows.push({ figure: 'CPU during the latency figures above (% of one core)', value: formatCpu(meter.stop()) });
    // Search (issue 17: p95 <= 20 ms): the same words as the earlier informative row, then other query shapes
    // for the record; each bounded to 15 s.
    const searchTimes = async (queries: string[]) => {
      const times: number[] = [];
      const deadline = Date.now() + 15_000;
      for (let i = 0; i < 100 && Date.now() < deadline; i++) {
        const t0 = process.hrtime.bigint();
        await api.json(
          'GET',
          `/threads?limit=20&q=${encodeURIComponent(queries[i % queries.length])}`,
          undefined,
          token,
        );
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return times;
    };
    log('search');
    const search = summarize(await searchTimes(['kalo', 'mine', 'rutavo', 'sipe', 'dagu']));
    rows.push({
      figure: `GET /threads?q=<word>&limit=20, full-text search (n=${search.n})`,
      value: `p50 ${ms(search.p50)}, p95 ${ms(search.p95)}, max ${ms(search.max)}`,
      goal: 'p95 <= 20 ms',
      pass: search.p95 <= 20,
    });
    // The timed searches above returned snippets too; say how many results had one, and how long they were.
    const sample: { items: { match?: { snippet: { text: string } } | null }[] } = await api.json(
      'GET',
      '/threads?limit=20&q=kalo',
      undefined,
      token,
    );
    const snippets = sample.items.flatMap((t) => (t.match ? [t.match.snippet.text.length] : []));
    rows.push({
      figure: '(info) search results with a snippet (match), q=kalo',
      value: `${snippets.length} of ${sample.items.length}, ${Math.max(0, ...snippets)} characters at most`,
    });
    rows.push(
      latencyRow(
        '(info) GET /threads?q=<two words>',
        await searchTimes(['kalo mine', 'rutavo sipe', 'dagu ka']),
        false,
      ),
      latencyRow('(info) GET /threads?q=<2-letter prefix>', await searchTimes(['ka', 'ru', 'si']), false),
      latencyRow('(info) GET /threads?q=<no match>', await searchTimes(['zzzqqq', 'nothinghere']), false),
    );
    await server.stop();
    return rows;
  } finally {
    removeDir(dataDir);
  }
}

async function main(cleanups: Cleanups): Promise<void> {
  process.stdout.write(`# confab pipeline benchmark${QUICK ? ' (QUICK: reduced sizes, not for figures)' : ''}\n\n`);
  process.stdout.write(`machine: ${machineLine()}\n`);
  process.stdout.write(
    'CPU figures are % of one core per process; "others" is the rest of the machine (other work skews figures)\n',
  );
  const upstream = await startUpstream();
  cleanups.push(() => upstream.close());
  const dataDir = tempDir('confab-bench-');
  cleanups.push(() => removeDir(dataDir));
  const server = await startConfab(serverEnv(dataDir, upstream.baseUrl));
  cleanups.push(() => server.stop());
  const api = new Api(server.url);
  const { token } = await api.signup('bench-pipeline@bench.local');
  const sdk = new OpenAI({ apiKey: 'x', baseURL: upstream.baseUrl, maxRetries: 0 });

  if (WRITES_ONLY) {
    await server.stop();
    printTable('Database writes', await databaseWrites(upstream));
    return;
  }
  if (LISTING_ONLY) {
    await server.stop();
    printTable('Listing, paging and search in a large embedded database', await listingAndPaging(upstream));
    return;
  }
  const bare = await startBareRelay(upstream.baseUrl);
  cleanups.push(() => bare.close());
  const ttft = await timeToFirstToken(api, token, sdk, upstream, server.child.pid!, bare.url);
  await bare.close();
  const relayRows = await relay(api, token, sdk, upstream, ttft.concurrent);
  await server.stop();
  printTable('Streaming latency (confab vs. direct SDK on the same fake upstream, same run)', [
    ...ttft.rows,
    ...relayRows,
  ]);
  await upstream.forget();
  if (STREAMING_ONLY) {
    return;
  }

  printTable('Database writes', await databaseWrites(upstream));
  await upstream.forget();

  printTable(
    'Listing and paging in a large embedded database (HTTP, one request at a time)',
    await listingAndPaging(upstream),
  );
}

runBenchmark('bench:pipeline', main);
