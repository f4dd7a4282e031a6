import { FixedWindowCounters, retryAfterSeconds } from './fixed-window';

describe(FixedWindowCounters.name, () => {
  it('should count hits per key within a window and start over when it ends', () => {
    const counters = new FixedWindowCounters();
    expect(counters.hit('a', 1000, 0)).toEqual({ count: 1, resetInMs: 1000 });
    expect(counters.hit('a', 1000, 400)).toEqual({ count: 2, resetInMs: 600 });
    expect(counters.hit('b', 1000, 400)).toEqual({ count: 1, resetInMs: 1000 });
    expect(counters.hit('a', 1000, 1000)).toEqual({ count: 1, resetInMs: 1000 });
  });

  it('should take back a hit only within the open window', () => {
    const counters = new FixedWindowCounters();
    counters.hit('a', 1000, 0);
    counters.hit('a', 1000, 0);
    counters.refund('a', 10);
    expect(counters.hit('a', 1000, 20).count).toBe(2);
    counters.refund('a', 5000);
    expect(counters.hit('a', 1000, 5000).count).toBe(1);
  });

  it('should stay within its key bound under a flood of distinct keys', () => {
    const counters = new FixedWindowCounters(100);
    for (let i = 0; i < 1000; i++) {
      counters.hit(`k${i}`, 60_000, i);
    }
    expect(counters.size).toBeLessThanOrEqual(100);
  });

  it('should round Retry-After up to whole seconds, at least one', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(900_000)).toBe(900);
  });
});
