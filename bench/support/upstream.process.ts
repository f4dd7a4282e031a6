/**
 * The fake OpenAI-compatible upstream (test/support/fake-upstream.ts, unchanged) as its own process for the
 * benchmarks, driven over IPC. Compared with test/support/fake-upstream.main.ts it adds what a benchmark needs to
 * attribute upstream timings to streams: every `bench <tag> <count> <delayMs>` request gets that many fixed-width
 * tokens at that pace, and `stats` returns each chat request's tag with its token send times
 * (process.hrtime.bigint(), CLOCK_MONOTONIC, comparable with the other processes on this machine).
 */
import { FakeUpstream, lastUserText } from '../../test/support/fake-upstream';
import { benchTokens, parseBenchPrompt } from './tokens';

export interface UpstreamRequestStats {
  id: number;
  tag: string | null;
  receivedAt: string;
  tokenTimes: string[];
  state: string;
}

export type UpstreamCommand = { id: number; type: 'stats'; sinceId: number } | { id: number; type: 'forget' };

async function main(): Promise<void> {
  const upstream = new FakeUpstream({ port: 0 });
  upstream.script = (body) => {
    const prompt = parseBenchPrompt(lastUserText(body));
    return prompt ? { tokens: benchTokens(prompt.count), tokenDelayMs: prompt.delayMs } : undefined;
  };
  await upstream.start();
  process.on('message', (command: UpstreamCommand) => {
    if (command.type === 'forget') {
      // Keeps memory flat across phases; ids keep counting.
      upstream.requests.length = 0;
      process.send!({ id: command.id, ok: true });
      return;
    }
    const chat = upstream.chatRequests
      .filter((r) => r.id > command.sinceId)
      .map((r): UpstreamRequestStats => ({
        id: r.id,
        tag: parseBenchPrompt(lastUserText(r.body))?.tag ?? null,
        receivedAt: String(r.receivedAt),
        tokenTimes: r.tokenTimes.map(String),
        state: r.state,
      }));
    process.send!({ id: command.id, ok: true, chat });
  });
  process.once('disconnect', () => void upstream.close().then(() => process.exit(0)));
  process.send!({ type: 'ready', baseUrl: upstream.baseUrl });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench upstream: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
