/** Child processes of the benchmarks: the fake upstream, confab servers, client workers; /proc readings. */
import { type ChildProcess, execSync, fork } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { MAIN_JS, type RunningServer, startServer } from '../../test/support/server-process';
import { log } from './stats';
import type { UpstreamRequestStats } from './upstream.process';

const SWC = ['-r', '@swc-node/register'];

/** Forks a TypeScript module of bench/support with IPC, its stderr shared with ours. */
export function forkTs(file: string, args: string[] = [], execArgv: string[] = []): ChildProcess {
  return fork(resolve(process.cwd(), file), args, {
    execArgv: [...SWC, ...process.execArgv.filter((a) => a.startsWith('--max-old-space-size')), ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Request/response over a child's IPC channel: every command carries an id, every answer echoes it. */
export class IpcClient {
  private lastId = 0;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (msg: any) => {
      const w = typeof msg?.id === 'number' ? this.waiting.get(msg.id) : undefined;
      if (w) {
        this.waiting.delete(msg.id);
        if (msg.ok === false && msg.error) {
          w.reject(new Error(String(msg.error)));
        } else {
          w.resolve(msg);
        }
      }
    });
    child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) {
        w.reject(new Error(`child exited (${code ?? signal}) before answering`));
      }
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  request<T = any>(command: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    const id = ++this.lastId;
    return new Promise<T>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no answer to ${String(command.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolvePromise(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...command, id });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export interface Upstream {
  baseUrl: string;
  pid: number;
  /** Chat requests recorded after `sinceId`, with their tag and token send times. */
  stats(sinceId?: number): Promise<{ id: number; tag: string | null; receivedAt: bigint; tokenTimes: bigint[] }[]>;
  /** Drops the recorded requests (after their stats were read). */
  forget(): Promise<void>;
  close(): Promise<void>;
}

/** The fake OpenAI-compatible upstream in its own process (bench/support/upstream.process.ts). */
export async function startUpstream(): Promise<Upstream> {
  const child = forkTs('bench/support/upstream.process.ts');
  const ipc = new IpcClient(child);
  const baseUrl = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}`)));
    child.on('message', (msg: any) => {
      if (msg?.type === 'ready') {
        resolveUrl(msg.baseUrl as string);
      }
    });
  });
  return {
    baseUrl,
    pid: child.pid!,
    async stats(sinceId = 0) {
      const { chat } = await ipc.request<{ chat: UpstreamRequestStats[] }>({ type: 'stats', sinceId });
      return chat.map((r) => ({
        id: r.id,
        tag: r.tag,
        receivedAt: BigInt(r.receivedAt),
        tokenTimes: r.tokenTimes.map((t) => BigInt(t)),
      }));
    },
    forget: () => ipc.request({ type: 'forget' }).then(() => undefined),
    close: () => ipc.close(),
  };
}

/** The bare relay of bench:gateway in its own process (bench/support/bare-relay.process.ts). */
export async function startBareRelay(
  upstreamBaseUrl: string,
  execArgv: string[] = [],
): Promise<{ url: string; pid: number; close: () => Promise<void> }> {
  const child = forkTs('bench/support/bare-relay.process.ts', [upstreamBaseUrl], execArgv);
  const ipc = new IpcClient(child);
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`bare relay exited with ${code}`)));
    child.on('message', (msg: any) => {
      if (msg?.type === 'ready') {
        resolveUrl(msg.url as string);
      }
    });
  });
  return { url, pid: child.pid!, close: () => ipc.close() };
}

/** The environment every benchmark server gets (plus DATA_DIR, OPENAI_BASE_URL and extras). */
export function serverEnv(dataDir: string, upstreamBaseUrl: string, extra: Record<string, string> = {}) {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    OPENAI_API_KEY: 'x',
    OPENAI_BASE_URL: upstreamBaseUrl,
    OPENAI_MAX_RETRIES: '0',
    MODELS: 'bench:128000',
    DEFAULT_MODEL: 'bench',
    SIGNUP_RATE_LIMIT: '100000/h',
    LOGIN_RATE_LIMIT: '100000/15m',
    // Streams share users (10 sockets each): the per-user cap of concurrent replies (default 3) is not what is measured.
    USER_MAX_CONCURRENT: '1000',
    BCRYPT_COST: '4',
    ACCESS_TOKEN_TTL: '2h',
    ...extra,
  };
}

/**
 * Starts the built server (dist). Someone else may be rebuilding dist meanwhile: when main.js is missing, waits a
 * little for their build and otherwise builds it, then tries once more.
 */
export async function startConfab(env: Record<string, string>): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    if (!existsSync(MAIN_JS)) {
      const deadline = Date.now() + 60_000;
      while (!existsSync(MAIN_JS) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (!existsSync(MAIN_JS)) {
        log('dist is missing: npm run build');
        execSync('npm run build', { stdio: 'ignore' });
      }
    }
    try {
      return await startServer(env);
    } catch (err) {
      if (attempt >= 2) {
        throw err;
      }
      log(`server start failed (${(err as Error).message.slice(0, 200)}); retrying`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
}

/** Resident set size of a process, bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) * 1024 : Number.NaN;
}

/** CPU time (user + system) a process has used so far, ms. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12] are utime and stime (the 14th and 15th fields of the whole line), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU time all cores have spent busy so far, ms (from /proc/stat). */
function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return ((total - fields[3] - fields[4]) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU use of several processes over a period: call `stop()` at its end for the percent of one core each, plus
 * `others`: what the rest of the machine used meanwhile (other work on a shared machine skews the figures).
 */
export function cpuMeter(pids: Record<string, number>) {
  const start = Date.now();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const machineBefore = machineBusyMs();
  return {
    stop(): Record<string, number> {
      const elapsed = Date.now() - start;
      const used = Object.fromEntries(
        Object.entries(pids).map(([k, pid]) => [k, ((cpuMs(pid) - before[k]) / elapsed) * 100]),
      );
      const ours = Object.values(used).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
      const machine = ((machineBusyMs() - machineBefore) / elapsed) * 100;
      return { ...used, others: Math.max(0, machine - ours) };
    },
  };
}

export function formatCpu(usage: Record<string, number>): string {
  return Object.entries(usage)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? v.toFixed(0) : '?'}%`)
    .join(', ');
}

/** The machine conditions, printed with every run. */
export function machineLine(): string {
  const cpu = cpus();
  return (
    `${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, node ${process.version}, ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} at start`
  );
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export type Cleanups = (() => Promise<unknown> | void)[];

/**
 * Runs a benchmark's body, then its cleanups in reverse order whatever happened, prints the total time and the
 * load average (other work on the machine skews figures), and exits 0, or 1 with the error.
 */
export function runBenchmark(name: string, body: (cleanups: Cleanups) => Promise<void>): void {
  const started = Date.now();
  const cleanups: Cleanups = [];
  const run = async () => {
    try {
      await body(cleanups);
    } finally {
      for (const cleanup of cleanups.reverse()) {
        await cleanup();
      }
    }
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    process.stdout.write(
      `\ntotal time ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${load}\n`,
    );
  };
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
