import fc from 'fast-check';
import { type ServerSentEvent, SseReader } from './sse-reader';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds the text cut at the given byte offsets and collects every event. */
function read(text: string, cuts: number[] = []): ServerSentEvent[] {
  const all = bytes(text);
  const reader = new SseReader();
  const events: ServerSentEvent[] = [];
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    events.push(...reader.push(all.subarray(from, cut)));
    from = cut;
  }
  events.push(...reader.push(all.subarray(from)));
  return events;
}

describe('SseReader', () => {
  it('should split data events at blank lines, in order', () => {
    expect(read('data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n')).toEqual([
      { event: null, data: '{"a":1}' },
      { event: null, data: '{"a":2}' },
      { event: null, data: '[DONE]' },
    ]);
  });

  it('should keep the event name, join data lines, and skip comments and other fields', () => {
    expect(read(': ping\n\nid: 7\nretry: 10\nevent: error\ndata: {"error":\ndata: "x"}\n\n')).toEqual([
      { event: 'error', data: '{"error":\n"x"}' },
    ]);
  });

  it('should take CRLF and CR line ends, and a data field without a space or a value', () => {
    expect(read('data:a\r\n\r\ndata: b\r\rdata\n\n')).toEqual([
      { event: null, data: 'a' },
      { event: null, data: 'b' },
      { event: null, data: '' },
    ]);
  });

  it('should drop a byte order mark at the start of the stream, even cut in two, and only there', () => {
    const stream = '\uFEFFdata: first\n\ndata: \uFEFFsecond\n\n';
    expect(read(stream)).toEqual([
      { event: null, data: 'first' },
      { event: null, data: '\uFEFFsecond' },
    ]);
    expect(read(stream, [1, 2])).toEqual(read(stream));
  });

  it('should dispatch nothing for an event without data, and drop an unfinished one at the end', () => {
    expect(read('event: ping\n\ndata: complete\n\ndata: cut off')).toEqual([{ event: null, data: 'complete' }]);
  });

  it('should give the same events however the bytes are cut, multi-byte characters and CRLF included', () => {
    const stream =
      'data: {"choices":[{"delta":{"content":"héllo 🧵"}}]}\r\n\r\n: keep-alive\n\nevent: x\ndata: 1\ndata: 2\n\n' +
      'data: {"choices":[{"delta":{"content":"日本"}}]}\r\rdata: [DONE]\n\n';
    const whole = read(stream);
    expect(whole).toHaveLength(4);
    const length = bytes(stream).length;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: length }), { maxLength: 12 }), (cuts) => {
        expect(read(stream, cuts)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('should not take an empty chunk between CR and LF for a blank line', () => {
    const reader = new SseReader();
    expect(reader.push(bytes('data: a\r'))).toEqual([]);
    expect(reader.push(new Uint8Array())).toEqual([]);
    expect(reader.push(bytes('\ndata: b\n\n'))).toEqual([{ event: null, data: 'a\nb' }]);
  });

  it('should give the same events byte by byte', () => {
    const stream = 'data: α\r\n\r\ndata: β\r\n\r\n';
    expect(
      read(
        stream,
        Array.from({ length: bytes(stream).length }, (_, i) => i),
      ),
    ).toEqual([
      { event: null, data: 'α' },
      { event: null, data: 'β' },
    ]);
  });
});
