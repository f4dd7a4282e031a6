import { type CompletionEvent, type CompletionRequest, ModelProvider, TokenCounter } from '@app/ai';
import { type MessageEntity, type MessageRepository, ownerScope } from '@app/persistence';
import { Logger } from '@nestjs/common';
import { ThreadEventBus } from '../events/thread-event-bus';
import type { ThreadEvent } from '../events/thread-events';
import { EmitTurn } from './emit-turn';
import { GenerationRun } from './generation-run';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Yields its texts one event-loop turn apart, as an upstream sending one chunk per turn, and ends a turn later. */
class TurnByTurnProvider extends ModelProvider {
  readonly demo = false;
  constructor(private readonly texts: string[]) {
    super();
  }
  async *stream(_request: CompletionRequest): AsyncGenerator<CompletionEvent> {
    for (const [i, text] of this.texts.entries()) {
      if (i > 0) {
        await nextTurn();
      }
      yield { type: 'delta', text };
    }
    // The end of the stream comes in a chunk of its own (as [DONE] does): the last text is not held for it.
    await nextTurn();
  }
  async listModels() {
    return [];
  }
}

/**
 * Numbers each synchronous stretch in which events are published (a new one after every process.nextTick): what
 * the Redis bus sends as one MULTI.
 */
class StretchRecordingBus extends ThreadEventBus {
  readonly published: { event: ThreadEvent; stretch: number }[] = [];
  private stretch = 0;
  private open = false;
  override publish(event: ThreadEvent): void {
    if (!this.open) {
      this.open = true;
      this.stretch += 1;
      process.nextTick(() => (this.open = false));
    }
    this.published.push({ event, stretch: this.stretch });
    super.publish(event);
  }
}

const messages = {
  update: async (_scope: unknown, id: string, patch: Partial<MessageEntity>) => ({ ...row(id), ...patch }),
} as unknown as MessageRepository;

function row(id: string): MessageEntity {
  return {
    id,
    threadId: `t-${id}`,
    ownerId: 'u1',
    parentId: null,
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
}

describe(EmitTurn.name, () => {
  const counter = new TokenCounter();
  beforeAll(() => Logger.overrideLogger(false));

  it("should publish every reply's deltas of an event-loop turn in one synchronous stretch", async () => {
    const bus = new StretchRecordingBus();
    const replies = ['r1', 'r2', 'r3'];
    const runs = replies.map(
      (id) =>
        new GenerationRun(
          {
            scope: ownerScope('u1'),
            threadId: `t-${id}`,
            assistant: row(id),
            model: 'm',
            turns: [{ role: 'user', content: 'Hi' }],
            contextOmitted: 0,
            maxChars: 1000,
            estimateUsage: (answer, reasoning) => counter.estimateUsage(3, answer, reasoning),
          },
          new TurnByTurnProvider([`${id}a`, `${id}b`, `${id}c`]),
          messages,
          bus,
        ),
    );

    await Promise.all(runs.map((run) => run.generate()));

    const deltas = bus.published.flatMap(({ event, stretch }) =>
      event.type === 'message:delta' ? [{ text: event.delta, seq: event.seq, stretch }] : [],
    );
    // Nothing lost or joined across turns: each reply's three chunks are its three deltas, in order.
    for (const id of replies) {
      expect(deltas.filter((d) => d.text.startsWith(id)).map((d) => [d.seq, d.text])).toEqual([
        [1, `${id}a`],
        [2, `${id}b`],
        [3, `${id}c`],
      ]);
    }
    // The chunks of one turn went out together: three stretches of three deltas (one reply each: nine).
    const stretches = [...new Set(deltas.map((d) => d.stretch))];
    expect(stretches.map((s) => deltas.filter((d) => d.stretch === s).map((d) => d.text))).toEqual(
      ['a', 'b', 'c'].map((chunk) => replies.map((id) => `${id}${chunk}`)),
    );
  });

  it('should run each queued emit once per pass, and one queued during the pass in the next', async () => {
    const turn = new EmitTurn();
    const calls: string[] = [];
    const late = () => calls.push('late');
    const first = () => {
      calls.push('first');
      turn.queue(late);
    };
    const cancelled = () => calls.push('cancelled');
    turn.queue(first);
    turn.queue(first);
    turn.queue(cancelled);
    turn.cancel(cancelled);

    await nextTurn();
    expect(calls).toEqual(['first']);
    await nextTurn();
    expect(calls).toEqual(['first', 'late']);
  });
});
