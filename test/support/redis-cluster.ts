import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
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

  /**
   * Starts the cluster, on fresh ports again when a node cannot start: a port chosen free (or its cluster-bus port,
   * port + 10000) can be taken by another process before redis-server binds it on a busy machine.
   */
  static async start(masters = 3, attempts = 3): Promise<RedisCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await RedisCluster.launch(masters);
      } catch (err) {
        if (attempt >= attempts || !(err instanceof NodeStartError)) {
          throw err;
        }
      }
    }
  }

  private static async launch(masters: number): Promise<RedisCluster> {
    const dir = tempDir('confab-redis-cluster-');
    const ports: number[] = [];
    while (ports.length < masters) {
      // Each node also listens on its port + 10000 (the cluster bus): keep both in range and both free.
      const port = await freePort();
      if (port < 55_000 && !ports.includes(port) && (await portIsFree(port + 10_000))) {
        ports.push(port);
      }
    }
    const output = new Map<number, string>();
    const nodes = ports.map((port) => {
      const node = spawn(
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
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      // Kept (the last few KB) to say why a node did not start.
      const keep = (chunk: Buffer) => output.set(port, ((output.get(port) ?? '') + chunk.toString()).slice(-4000));
      node.stdout?.on('data', keep);
      node.stderr?.on('data', keep);
      return node;
    });
    const cluster = new RedisCluster(nodes, ports, dir);
    try {
      const deadline = Date.now() + 10_000;
      for (const [i, port] of ports.entries()) {
        while (!(await pingRedis(port))) {
          const node = nodes[i];
          if (node.exitCode !== null || node.signalCode !== null || Date.now() > deadline) {
            const tail = (output.get(port) ?? '').trim().split('\n').slice(-3).join(' | ');
            throw new NodeStartError(`cluster node ${port} did not start: ${tail || 'no output'}`);
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

/** A node that could not start (port taken, early exit): worth another try on other ports. */
class NodeStartError extends Error {}

/** True when nothing listens on 127.0.0.1:port right now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
