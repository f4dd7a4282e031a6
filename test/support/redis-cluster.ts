import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { pingRedis } from './redis-process';
import { freePort, tempDir } from './server-process';

const run = promisify(execFile);

/** True when `redis-cli` (which creates the cluster) can be run here; Debian ships it with redis-server. */
export async function redisCliAvailable(): Promise<boolean> {
  try {
    await run('redis-cli', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/**
 * A real Redis Cluster of three masters (no replicas) on loopback, made by `redis-cli --cluster create`, as
 * ElastiCache in cluster mode is: keys of one MULTI or script in different slots fail with CROSSSLOT, and a
 * sharded channel lives on the node owning its slot.
 */
export class RedisCluster {
  private constructor(
    private readonly nodes: ChildProcess[],
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  /** A seed node's URL (clients find the others from it). */
  get url(): string {
    return `redis://127.0.0.1:${this.ports[0]}`;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = tempDir('confab-redis-cluster-');
    const ports: number[] = [];
    while (ports.length < masters) {
      // Each node also listens on its port + 10000 (the cluster bus): keep both in range.
      const port = await freePort();
      if (port < 55_000 && !ports.includes(port)) {
        ports.push(port);
      }
    }
    const nodes = ports.map((port) =>
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `${dir}/nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
        ],
        { stdio: 'ignore' },
      ),
    );
    const cluster = new RedisCluster(nodes, ports, dir);
    try {
      const deadline = Date.now() + 10_000;
      for (const port of ports) {
        while (!(await pingRedis(port))) {
          if (Date.now() > deadline) {
            throw new Error(`cluster node ${port} did not start`);
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ]);
      await cluster.waitUntilOk();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Runs one command on one node (redis-cli, no redirection) and returns its output. */
  async command(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
    return stdout;
  }

  /** Every key on every master. */
  async keys(): Promise<string[]> {
    const lists = await Promise.all(this.ports.map((p) => this.command(p, '--scan')));
    return lists.flatMap((l) => l.split('\n').filter(Boolean));
  }

  /** The sharded channels with subscribers, over all masters. */
  async shardChannels(): Promise<string[]> {
    const lists = await Promise.all(this.ports.map((p) => this.command(p, 'PUBSUB', 'SHARDCHANNELS')));
    return lists.flatMap((l) => l.split('\n').filter(Boolean));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map((node) => {
        if (node.exitCode !== null || node.signalCode !== null) {
          return undefined;
        }
        const exited = new Promise((r) => node.once('exit', r));
        node.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Every node agrees that all 16384 slots are served (the gossip takes a moment after `create`). */
  private async waitUntilOk(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const infos = await Promise.all(this.ports.map((p) => this.command(p, 'CLUSTER', 'INFO')));
      if (
        infos.every((i) => i.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${this.ports.length}`))
      ) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`the Redis cluster did not become ready: ${infos.join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
