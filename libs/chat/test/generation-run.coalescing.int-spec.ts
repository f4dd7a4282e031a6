import { OpenAiProvider } from '@app/ai';
import { ownerScope } from '@app/persistence';
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, openSqlite } from '../../persistence/src/sqlite/sqlite-database';
import { SqliteMessageRepository } from '../../persistence/src/sqlite/sqlite-message.repository';
import { SqliteThreadRepository } from '../../persistence/src/sqlite/sqlite-thread.repository';
import { SqliteUserRepository } from '../../persistence/src/sqlite/sqlite-user.repository';
import { type FakeUpstream, startFakeUpstream } from '../../../test/support/fake-upstream';
import { ThreadEventBus } from '../src/events/thread-event-bus';
import type { ThreadEvent } from '../src/events/thread-events';
import { GenerationRun } from '../src/generation/generation-run';

/** A window far longer than any gap between tokens here: whatever the machine's load, a held delta stays held. */
const LONG_WINDOW_MS = 60_000;

describe('GenerationRun delta coalescing (DELTA_COALESCE)', () => {
  let dir: string;
  let db: Db;
  let upstream: FakeUpstream;
  let messages: SqliteMessageRepository;
  let bus: ThreadEventBus;
  let provider: OpenAiProvider;
  let scope: ReturnType<typeof ownerScope>;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'confab-coalesce-'));
    db = openSqlite(join(dir, 'confab.db'));
    upstream = await startFakeUpstream();
    messages = new SqliteMessageRepository(db);
    bus = new ThreadEventBus();
    provider = new OpenAiProvider({ apiKey: 'k', baseUrl: upstream.baseUrl, timeoutMs: 10_000, maxRetries: 0 });
    const user = await new SqliteUserRepository(db).create({ email: 'c@example.com', name: 'C', passwordHash: 'h' });
    scope = ownerScope(user.id);
  });

  afterEach(async () => {
    await upstream.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A run of a new reply, and every event of its thread with the time it was published. */
  async function start(coalesceMs: number | undefined) {
    const thread = await new SqliteThreadRepository(db).create(scope, { title: 't', model: 'm', systemPrompt: '' });
    const { message: assistant } = await messages.create(scope, {
      threadId: thread.id,
      parentId: null,
      role: 'assistant',
      content: '',
      model: 'm',
      status: 'streaming',
    });
    const events: { event: ThreadEvent; at: bigint }[] = [];
    bus.subscribeThread(thread.id, (event) => events.push({ event, at: process.hrtime.bigint() }));
    const run = new GenerationRun(
      {
        scope,
        threadId: thread.id,
        assistant,
        model: 'm',
        turns: [{ role: 'user', content: 'hi' }],
        contextOmitted: 0,
        maxChars: 100_000,
        estimateUsage: (answer, reasoning) => ({
          promptTokens: 1,
          completionTokens: answer.length + reasoning.length,
          totalTokens: 1 + answer.length + reasoning.length,
        }),
        coalesceMs,
      },
      provider,
      messages,
      bus,
    );
    const deltas = () =>
      events.flatMap(({ event, at }) =>
        event.type === 'message:delta' ? [{ seq: event.seq, text: event.delta, at }] : [],
      );
    return { run, events, deltas };
  }

  it('should send the first delta at once, join the ones inside the window, and lose or reorder nothing', async () => {
    const tokens = ['Once', ' upon', ' a', ' time', ' there'];
    upstream.enqueue({ tokens, tokenDelayMs: 400 });
    const { run, events, deltas } = await start(LONG_WINDOW_MS);

    const outcome = await run.generate();

    expect(outcome.message).toMatchObject({ status: 'complete', content: tokens.join('') });
    const sent = deltas();
    // The first token went out before the upstream wrote the second one: the window never delays it.
    expect(sent[0].text).toBe('Once');
    expect(sent[0].at).toBeLessThan(upstream.chatRequests[0].tokenTimes[1]);
    // The rest arrived within the window: one event, sent before the reply's end.
    expect(sent.map((d) => d.text)).toEqual(['Once', ' upon a time there']);
    expect(sent.map((d) => d.seq)).toEqual([1, 2]);
    expect(events.at(-1)?.event).toMatchObject({ type: 'message:done', message: { content: tokens.join('') } });
  });

  it('should not hold tokens further apart than the window', async () => {
    const tokens = ['a', 'b', 'c', 'd'];
    upstream.enqueue({ tokens, tokenDelayMs: 300 });
    const { run, deltas } = await start(1);

    const outcome = await run.generate();

    // Each token comes 300 ms after the previous event, far past the 1 ms window (a long window sends 2 events).
    expect(deltas().length).toBeGreaterThan(2);
    expect(deltas().map((d) => d.seq)).toEqual(deltas().map((_, i) => i + 1));
    expect(
      deltas()
        .map((d) => d.text)
        .join(''),
    ).toBe(outcome.message.content);
    expect(outcome.message.content).toBe('abcd');
  });

  it('should keep every delivered delta when stopped inside a window', async () => {
    upstream.enqueue({ tokens: ['one', ' two', ' three', ' four', ' five', ' six', ' seven'], tokenDelayMs: 100 });
    const { run, events, deltas } = await start(LONG_WINDOW_MS);
    const done = run.generate();
    // Stop once the upstream has written three tokens: the last two of them are held in the window.
    while ((upstream.chatRequests[0]?.tokenTimes.length ?? 0) < 3) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 50));
    run.stop();

    const outcome = await done;

    expect(outcome.message.status).toBe('stopped');
    const sent = deltas();
    expect(sent[0].text).toBe('one');
    // What the run had received and held went out as one more delta before the end, and it is what was stored.
    expect(sent.map((d) => d.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(sent.map((d) => d.text).join('')).toBe(outcome.message.content);
    expect(outcome.message.content.startsWith('one two')).toBe(true);
    expect((await messages.findById(scope, outcome.message.id))?.content).toBe(outcome.message.content);
    expect(events.at(-1)?.event).toMatchObject({ type: 'message:done', message: { status: 'stopped' } });
  });
});
