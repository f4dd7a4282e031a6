import { liveReplies } from './live-replies';

// The store batches renders per animation frame; under jest there are no frames, only timers.
globalThis.requestAnimationFrame ??= (fn: FrameRequestCallback) => setTimeout(() => fn(0), 0) as unknown as number;

describe('liveReplies', () => {
  it('should keep reasoning deltas apart from the answer while both follow one seq order', () => {
    liveReplies.start('t1', 'm1');
    expect(liveReplies.delta('t1', 'm1', 1, 'Let me think. ', 'reasoning')).toBe(true);
    expect(liveReplies.delta('t1', 'm1', 2, 'Hello', undefined)).toBe(true);
    expect(liveReplies.delta('t1', 'm1', 3, ' world', undefined)).toBe(true);
    expect(liveReplies.get('t1').reply).toEqual({
      messageId: 'm1',
      content: 'Hello world',
      reasoning: 'Let me think. ',
      seq: 3,
    });
  });

  it('should refuse a gap and ignore a repeat, whatever the kind', () => {
    liveReplies.start('t2', 'm2');
    expect(liveReplies.delta('t2', 'm2', 1, 'a', 'reasoning')).toBe(true);
    expect(liveReplies.delta('t2', 'm2', 3, 'c', undefined)).toBe(false);
    expect(liveReplies.delta('t2', 'm2', 1, 'a', 'reasoning')).toBe(true);
    expect(liveReplies.get('t2').reply).toMatchObject({ content: '', reasoning: 'a', seq: 1 });
  });
});
