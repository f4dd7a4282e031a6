/**
 * Runs the fake OpenAI-compatible upstream as its own process (for benchmarks and manual runs) and prints its base
 * URL (`http://127.0.0.1:<port>/v1`, what OPENAI_BASE_URL takes) as the first line on stdout.
 *
 *   node -r @swc-node/register test/support/fake-upstream.main.ts --tokens 200 --delay 5 --latency 50
 *
 * Options (or environment variables): --tokens N (FAKE_TOKENS, tokens per reply; default: the echo of the last
 * user message), --delay MS (FAKE_TOKEN_DELAY_MS, between tokens), --latency MS (FAKE_LATENCY_MS, before the
 * headers), --port N (FAKE_PORT, default 0 = any free port), --api-key KEY (FAKE_API_KEY, require this bearer key).
 * `GET /__fake/stats` returns the recorded timings (hrtime, comparable across processes on one machine);
 * `POST /__fake/replies` queues scripted replies (a FakeReply or an array of them).
 */
import { FakeUpstream } from './fake-upstream';

function option(name: string, env: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && i + 1 < process.argv.length) {
    return process.argv[i + 1];
  }
  const inline = process.argv.find((a) => a.startsWith(`--${name}=`));
  return inline ? inline.slice(name.length + 3) : process.env[env];
}

function numberOption(name: string, env: string): number | undefined {
  const value = option(name, env);
  if (value === undefined || value === '') {
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`fake upstream: --${name} must be a non-negative integer (got "${value}")\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const upstream = new FakeUpstream({
    port: numberOption('port', 'FAKE_PORT') ?? 0,
    defaultTokenCount: numberOption('tokens', 'FAKE_TOKENS'),
    defaults: {
      tokenDelayMs: numberOption('delay', 'FAKE_TOKEN_DELAY_MS'),
      latencyMs: numberOption('latency', 'FAKE_LATENCY_MS'),
    },
    apiKey: option('api-key', 'FAKE_API_KEY'),
  });
  await upstream.start();
  process.stdout.write(`${upstream.baseUrl}\n`);
  const stop = () => {
    void upstream.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fake upstream: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
