import { jest } from '@jest/globals';
import { type MessageRepository, ownerScope, type ReplyProgress } from '@app/persistence';
import { FLUSH_CHUNK, FLUSH_INTERVAL_MS, type FlushableReply, ReplyFlusher } from './reply-flusher';

/** Records each batch; `hold` keeps the next write pending until released. */
class RecordingMessages {
  batches: ReplyProgress[][] = [];
  /** For each write: whether an immediate queued during the previous write had run (the event loop turned). */
  turnedBefore: boolean[] = [];
  private turned = false;
  failNext = false;
  private held: (() => void) | null = null;
  holdNext = false;
  /** Holds the write with this number (1 = the first), like holdNext. */
  holdCall: number | null = null;

  async saveProgress(items: readonly ReplyProgress[]): Promise<void> {
    this.batches.push([...items]);
    this.turnedBefore.push(this.turned);
    this.turned = false;
    setImmediate(() => (this.turned = true));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    if (this.holdNext || this.holdCall === this.batches.length) {
      this.holdNext = false;
      await new Promise<void>((resolve) => (this.held = resolve));
    }
  }

  release(): void {
    this.held?.();
  }
}

/** A reply whose text grows when told; `progress` answers only what changed, as GenerationRun's does. */
class Reply implements FlushableReply {
  private text = '';
  private flushed = 0;

  constructor(readonly id: string) {}

  grow(more: string): void {
    this.text += more;
  }

  progress(): ReplyProgress | null {
    if (this.text.length === this.flushed) {
      return null;
    }
    this.flushed = this.text.length;
    return { scope: ownerScope('u1'), id: this.id, content: this.text, reasoning: null };
  }
}

describe('ReplyFlusher', () => {
  let messages: RecordingMessages;
  let flusher: ReplyFlusher;

  beforeEach(() => {
    jest.useFakeTimers();
    messages = new RecordingMessages();
    flusher = new ReplyFlusher(messages as unknown as MessageRepository);
  });

  afterEach(() => jest.useRealTimers());

  it('should write every dirty reply in one batch per interval, each at most once per interval', async () => {
    const replies = ['a', 'b', 'c'].map((id) => new Reply(id));
    replies.forEach((r, i) => {
      r.grow(`text ${i}`);
      flusher.dirty(r);
    });
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS - 1);
    expect(messages.batches).toHaveLength(0);

    await jest.advanceTimersByTimeAsync(1);
    expect(messages.batches).toHaveLength(1);
    expect(messages.batches[0].map((p) => [p.id, p.content])).toEqual([
      ['a', 'text 0'],
      ['b', 'text 1'],
      ['c', 'text 2'],
    ]);

    replies[1].grow(' more');
    flusher.dirty(replies[1]);
    flusher.dirty(replies[1]);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
    expect(messages.batches).toHaveLength(2);
    expect(messages.batches[1]).toEqual([expect.objectContaining({ id: 'b', content: 'text 1 more' })]);
  });

  it('should write nothing when no reply changed since its last flush', async () => {
    const reply = new Reply('a');
    reply.grow('x');
    flusher.dirty(reply);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
    flusher.dirty(reply); // dirty again, but nothing new
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS * 3);

    expect(messages.batches).toHaveLength(1);
  });

  it('should leave out a reply that settled, and make settle wait for a batch under way', async () => {
    const ending = new Reply('ending');
    const other = new Reply('other');
    ending.grow('partial');
    other.grow('partial');
    flusher.dirty(ending);
    flusher.dirty(other);
    messages.holdNext = true;
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
    expect(messages.batches).toHaveLength(1);

    ending.grow(' and the rest');
    flusher.dirty(ending);
    let settled = false;
    const settling = flusher.settle(ending).then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false); // the batch holding its partial text is still being written

    messages.release();
    await settling;
    expect(settled).toBe(true);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS * 2);
    // Settled before the next flush: its newer text is left to its final write.
    expect(
      messages.batches
        .flat()
        .filter((p) => p.id === 'ending')
        .map((p) => p.content),
    ).toEqual(['partial']);
  });

  it('should give the next reply a full interval when the last dirty one settled', async () => {
    const first = new Reply('first');
    first.grow('one');
    flusher.dirty(first);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS / 2);
    await flusher.settle(first); // it ends before the flush: its final write is its own

    const next = new Reply('next');
    next.grow('two');
    flusher.dirty(next);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS - 1);
    expect(messages.batches).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(messages.batches.map((b) => b.map((p) => p.id))).toEqual([['next']]);
  });

  it('should go on flushing after a failed write', async () => {
    const reply = new Reply('a');
    messages.failNext = true;
    reply.grow('one');
    flusher.dirty(reply);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);
    reply.grow(' two');
    flusher.dirty(reply);
    await jest.advanceTimersByTimeAsync(FLUSH_INTERVAL_MS);

    expect(messages.batches.map((b) => b.map((p) => p.content))).toEqual([['one'], ['one two']]);
    await expect(flusher.settle(reply)).resolves.toBeUndefined();
  });

  it('should write a flush of many replies in parts of FLUSH_CHUNK, the event loop turning between them', async () => {
    jest.useRealTimers();
    flusher = new ReplyFlusher(messages as unknown as MessageRepository);
    const replies = Array.from({ length: FLUSH_CHUNK * 2 + 5 }, (_, i) => new Reply(`r${i}`));
    for (const reply of replies) {
      reply.grow('x');
      flusher.dirty(reply);
    }
    messages.failNext = true; // the first part fails: the others are still written
    await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS + 20));
    await flusher.settle(replies[0]);

    expect(messages.batches.map((b) => b.length)).toEqual([FLUSH_CHUNK, FLUSH_CHUNK, 5]);
    expect(messages.batches.flat().map((p) => p.id)).toEqual(replies.map((r) => r.id));
    expect(messages.turnedBefore.slice(1)).toEqual([true, true]);
  });

  it('should make settle of a reply in the last part wait for that part', async () => {
    jest.useRealTimers();
    flusher = new ReplyFlusher(messages as unknown as MessageRepository);
    const replies = Array.from({ length: FLUSH_CHUNK + 1 }, (_, i) => new Reply(`r${i}`));
    for (const reply of replies) {
      reply.grow('x');
      flusher.dirty(reply);
    }
    messages.holdCall = 2; // the part holding the last reply
    await new Promise((resolve) => setTimeout(resolve, FLUSH_INTERVAL_MS + 20));
    expect(messages.batches.map((b) => b.length)).toEqual([FLUSH_CHUNK, 1]);

    let settled = false;
    const settling = flusher.settle(replies[FLUSH_CHUNK]).then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    messages.release();
    await settling;
    expect(settled).toBe(true);
  });
});
