import { AbortError, type CompletionEvent, type CompletionRequest, EventChannel, ModelProvider } from '@app/ai';
import { OpenedStream } from './opened-stream';

const delta = (text: string): CompletionEvent => ({ type: 'delta', text });
const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }] };

/** A provider whose stream is an EventChannel (as OpenAiProvider's) driven by the test. */
class ChannelProvider extends ModelProvider {
  readonly demo = false;
  channel!: EventChannel<CompletionEvent>;
  signal!: AbortSignal;
  started = 0;
  left = 0;

  stream(req: CompletionRequest): AsyncIterable<CompletionEvent> {
    this.signal = req.signal;
    this.channel = new EventChannel<CompletionEvent>(
      (channel) => {
        this.started += 1;
        channel.onLeave = () => (this.left += 1);
        req.signal.addEventListener('abort', () => channel.fail(new AbortError(), true), { once: true });
      },
      { signal: req.signal, error: () => new AbortError() },
    );
    return this.channel;
  }

  async listModels() {
    return [];
  }
}

/** A provider whose stream is an async generator (no `listen`). */
class GeneratorProvider extends ModelProvider {
  readonly demo = false;
  started = 0;
  closed = false;

  constructor(private readonly events: CompletionEvent[]) {
    super();
  }

  async *stream(): AsyncGenerator<CompletionEvent> {
    this.started += 1;
    try {
      yield* this.events;
    } finally {
      this.closed = true;
    }
  }

  async listModels() {
    return [];
  }
}

describe(OpenedStream.name, () => {
  it('should start the request at once, hold what comes before the run listens, then hand each event over in its push', async () => {
    const provider = new ChannelProvider();
    const opened = new OpenedStream(provider, request);
    expect(provider.started).toBe(1);
    provider.channel.push(delta('Hel'));
    provider.channel.push(delta('lo'));
    const seen: string[] = [];

    const listening = opened.listen((e) => void seen.push(e.type === 'delta' ? e.text : e.type));
    expect(seen).toEqual(['Hel', 'lo']);
    provider.channel.push(delta('!'));
    expect(seen).toEqual(['Hel', 'lo', '!']); // taken during the push, no promise in between
    provider.channel.push({ type: 'usage', usage: { promptTokens: 1, completionTokens: 3 } });
    provider.channel.end();

    await expect(listening).resolves.toBeUndefined();
    expect(seen).toEqual(['Hel', 'lo', '!', 'usage']);
  });

  it('should report a failure that came before the run listened, after the events before it', async () => {
    const provider = new ChannelProvider();
    const opened = new OpenedStream(provider, request);
    provider.channel.push(delta('Hel'));
    provider.channel.fail(new Error('upstream broke'));
    const seen: CompletionEvent[] = [];

    await expect(opened.listen((e) => void seen.push(e))).rejects.toThrow('upstream broke');
    expect(seen).toEqual([delta('Hel')]);
  });

  it('should deliver nothing received before a stop, and reject with the stop', async () => {
    const provider = new ChannelProvider();
    const opened = new OpenedStream(provider, request);
    provider.channel.push(delta('Hel'));
    opened.abort.abort();
    const seen: CompletionEvent[] = [];

    await expect(opened.listen((e) => void seen.push(e))).rejects.toBeInstanceOf(AbortError);
    expect(seen).toEqual([]);
  });

  it('should close the stream when the run stops reading, among the held events or after them', async () => {
    const held = new ChannelProvider();
    const early = new OpenedStream(held, request);
    held.channel.push(delta('a'));
    held.channel.push(delta('b'));
    const seenEarly: CompletionEvent[] = [];
    await early.listen((e) => (seenEarly.push(e), false));
    expect(seenEarly).toEqual([delta('a')]);
    expect(held.left).toBe(1);

    const later = new ChannelProvider();
    const opened = new OpenedStream(later, request);
    const seen: CompletionEvent[] = [];
    const listening = opened.listen((e) => (seen.push(e), seen.length < 2));
    later.channel.push(delta('a'));
    later.channel.push(delta('b'));
    later.channel.push(delta('c'));
    await expect(listening).resolves.toBeUndefined();
    expect(seen).toEqual([delta('a'), delta('b')]);
    expect(later.left).toBe(1);
  });

  it('should read any other stream from its first event, asked for at once, with the same semantics', async () => {
    const provider = new GeneratorProvider([delta('a'), delta('b'), delta('c')]);
    const opened = new OpenedStream(provider, request);
    expect(provider.started).toBe(1); // the first event was asked for: the request is under way
    const seen: CompletionEvent[] = [];

    await opened.listen((e) => (seen.push(e), seen.length < 2));

    expect(seen).toEqual([delta('a'), delta('b')]);
    expect(provider.closed).toBe(true);
  });

  it('should abort the request and end the stream when cancelled: nothing, before or after, reaches a reader', async () => {
    const provider = new ChannelProvider();
    const opened = new OpenedStream(provider, request);
    provider.channel.push(delta('a'));

    opened.cancel();
    provider.channel.push(delta('b'));
    const seen: CompletionEvent[] = [];

    expect(provider.signal.aborted).toBe(true);
    await opened.listen((e) => void seen.push(e));
    expect(seen).toEqual([]);
  });
});
