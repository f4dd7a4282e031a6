import {
  AbortError,
  type CompletionEvent,
  type CompletionRequest,
  EventChannel,
  ModelProvider,
  TokenCounter,
} from '@app/ai';
import { AppError } from '@app/common';
import { type MessageEntity, type MessageRepository, ownerScope } from '@app/persistence';
import { Logger } from '@nestjs/common';
import { ThreadEventBus } from '../events/thread-event-bus';
import type { ThreadEvent } from '../events/thread-events';
import { GenerationRun, type RunInput } from './generation-run';

/** The next turn of the event loop: deltas yielded in one turn are one I/O turn for the run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

type Step = CompletionEvent | 'turn' | Error | 'wait-for-abort';

/** A provider that plays a script: events, event-loop turns, a failure, or a wait until the request is aborted. */
class ScriptedProvider extends ModelProvider {
  readonly demo = false;
  requests: CompletionRequest[] = [];
  left = false;

  constructor(private readonly script: Step[]) {
    super();
  }

  async *stream(request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    this.requests.push(request);
    try {
      for (const step of this.script) {
        if (step === 'turn') {
          await nextTurn();
        } else if (step === 'wait-for-abort') {
          await new Promise((resolve) => request.signal.addEventListener('abort', resolve, { once: true }));
          throw new AbortError();
        } else if (step instanceof Error) {
          throw step;
        } else {
          yield step;
        }
      }
    } finally {
      this.left = true; // the consumer stopped iterating or the stream ended: the upstream request is closed
    }
  }

  async listModels() {
    return [];
  }
}

type MessagePatch = Parameters<MessageRepository['update']>[2];

/** Stores the reply's row in memory: every write the run makes, and the row as it stands. */
class MemoryMessages {
  writes: MessagePatch[] = [];
  failing = false;
  constructor(public row: MessageEntity | null) {}

  async update(_scope: unknown, _id: string, patch: MessagePatch): Promise<MessageEntity | null> {
    if (this.failing) {
      throw new Error('disk full');
    }
    this.writes.push(patch);
    if (!this.row) {
      return null;
    }
    this.row = { ...this.row, ...patch, updatedAt: new Date() } as MessageEntity;
    return this.row;
  }
}

const assistant: MessageEntity = {
  id: 'a1',
  threadId: 't1',
  ownerId: 'u1',
  parentId: 'q1',
  role: 'assistant',
  content: '',
  reasoning: null,
  model: 'm',
  status: 'streaming',
  usage: null,
  clientMessageId: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
};

describe(GenerationRun.name, () => {
  const counter = new TokenCounter();
  let bus: ThreadEventBus;
  let events: ThreadEvent[];

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    bus = new ThreadEventBus();
    events = [];
    bus.subscribe((e) => events.push(e));
  });

  function runOf(script: Step[], input: Partial<RunInput> = {}, messages = new MemoryMessages({ ...assistant })) {
    const provider = new ScriptedProvider(script);
    return { run: runOn(provider, input, messages), provider, messages };
  }

  function runOn(provider: ModelProvider, input: Partial<RunInput>, messages: MemoryMessages): GenerationRun {
    return new GenerationRun(
      {
        scope: ownerScope('u1'),
        threadId: 't1',
        assistant,
        model: 'm',
        turns: [{ role: 'user', content: 'Hi' }],
        contextOmitted: 0,
        maxChars: 1000,
        estimateUsage: (answer, reasoning) => counter.estimateUsage(7, answer, reasoning),
        ...input,
      },
      provider,
      messages as unknown as MessageRepository,
      bus,
    );
  }

  const deltas = () => events.filter((e) => e.type === 'message:delta');

  /** A run on a provider whose stream is an EventChannel the test pushes into (as OpenAiProvider's). */
  function channelRun() {
    let channel!: EventChannel<CompletionEvent>;
    const provider = new (class extends ModelProvider {
      readonly demo = false;
      stream(): AsyncIterable<CompletionEvent> {
        channel = new EventChannel<CompletionEvent>(() => undefined);
        return channel;
      }
      async listModels() {
        return [];
      }
    })();
    const outcome = runOn(provider, {}, new MemoryMessages({ ...assistant })).generate();
    return { push: (text: string) => channel.push({ type: 'delta', text }), end: () => channel.end(), outcome };
  }

  it("should publish a reply's first text at the end of the callback that brought it, later text in the turn's pass", async () => {
    const { push, end, outcome } = channelRun();
    const endOfCallback = () => new Promise<void>((resolve) => process.nextTick(resolve));

    push('Hel');
    push('lo'); // the same callback: joined to the first text
    await endOfCallback();
    expect(deltas().map((e) => (e.type === 'message:delta' ? e.delta : ''))).toEqual(['Hello']);

    push(' there');
    await endOfCallback();
    expect(deltas()).toHaveLength(1); // not the first any more: it waits for the turn's pass
    await nextTurn();
    expect(deltas().map((e) => (e.type === 'message:delta' ? [e.seq, e.delta] : []))).toEqual([
      [1, 'Hello'],
      [2, ' there'],
    ]);
    end();
    await expect(outcome).resolves.toMatchObject({ error: null, message: { content: 'Hello there' } });
  });

  it('should publish one delta per kind and I/O turn with the next seq, then store and publish the whole reply', async () => {
    const usage = { promptTokens: 11, completionTokens: 5 };
    const { run, messages } = runOf(
      [
        { type: 'reasoning', text: 'Think' },
        { type: 'reasoning', text: 'ing.' },
        { type: 'delta', text: 'Hel' },
        { type: 'delta', text: 'lo' },
        'turn',
        { type: 'delta', text: '!' },
        { type: 'usage', usage },
      ],
      { contextOmitted: 2 },
    );

    const outcome = await run.generate();

    expect(deltas()).toEqual([
      { type: 'message:delta', threadId: 't1', messageId: 'a1', seq: 1, delta: 'Thinking.', kind: 'reasoning' },
      { type: 'message:delta', threadId: 't1', messageId: 'a1', seq: 2, delta: 'Hello' },
      { type: 'message:delta', threadId: 't1', messageId: 'a1', seq: 3, delta: '!' },
    ]);
    expect(outcome).toMatchObject({ error: null, persisted: true });
    expect(outcome.message).toMatchObject({ content: 'Hello!', reasoning: 'Thinking.', status: 'complete', usage });
    expect(messages.writes.at(-1)).toEqual({ content: 'Hello!', reasoning: 'Thinking.', status: 'complete', usage });
    const done = events.at(-1);
    expect(done).toMatchObject({ type: 'message:done', message: { id: 'a1', status: 'complete', contextOmitted: 2 } });
    await expect(run.done).resolves.toBe(outcome);
  });

  it('should store a stopped reply with its text so far and usage counted here, closing the upstream request', async () => {
    const { run, provider } = runOf([{ type: 'delta', text: 'Once upon' }, 'turn', 'wait-for-abort']);

    const outcome = run.generate();
    await nextTurn();
    await nextTurn();
    run.stop();

    await expect(outcome).resolves.toMatchObject({
      error: null,
      message: { content: 'Once upon', status: 'stopped', usage: counter.estimateUsage(7, 'Once upon') },
    });
    expect(provider.requests[0].signal.aborted).toBe(true);
    expect(provider.left).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'message:done', message: { status: 'stopped' } });
  });

  it("should keep the partial text of a provider failure and publish the failure's code", async () => {
    const { run } = runOf([
      { type: 'delta', text: 'Part' },
      'turn',
      new AppError('upstream_timeout', 'The model provider did not answer in time'),
    ]);

    const outcome = await run.generate();

    expect(outcome.error?.code).toBe('upstream_timeout');
    expect(outcome.message).toMatchObject({ content: 'Part', status: 'error' });
    expect(events.at(-1)).toEqual({
      type: 'message:error',
      threadId: 't1',
      messageId: 'a1',
      error: { code: 'upstream_timeout', message: 'The model provider did not answer in time' },
    });
  });

  it('should cut a reply at maxChars (answer and thinking together), leave the stream and store it as error', async () => {
    const { run, provider } = runOf(
      [
        { type: 'reasoning', text: 'abcdef' },
        { type: 'delta', text: 'ghijklmnop' },
        { type: 'delta', text: 'never read' },
      ],
      { maxChars: 10 },
    );

    const outcome = await run.generate();

    expect(outcome.message).toMatchObject({ reasoning: 'abcdef', content: 'ghij', status: 'error' });
    expect(outcome.error?.message).toContain('exceeded 10 characters');
    expect(provider.left).toBe(true);
    expect(deltas().map((e) => (e.type === 'message:delta' ? e.delta : ''))).toEqual(['abcdef', 'ghij']);
  });

  it('should still end the reply for everyone when it cannot be stored', async () => {
    const messages = new MemoryMessages({ ...assistant });
    messages.failing = true;
    const { run } = runOf([{ type: 'delta', text: 'Lost' }], {}, messages);

    const outcome = await run.generate();

    expect(outcome).toMatchObject({ persisted: false, error: { code: 'internal' } });
    expect(events.at(-1)).toMatchObject({ type: 'message:error', messageId: 'a1', error: { code: 'internal' } });
  });

  it('should report what was generated when the row is gone (thread deleted meanwhile), as not persisted', async () => {
    const { run } = runOf([{ type: 'delta', text: 'Orphan' }], {}, new MemoryMessages(null));

    const outcome = await run.generate();

    expect(outcome).toMatchObject({
      persisted: false,
      error: null,
      message: { content: 'Orphan', status: 'complete' },
    });
  });
});
