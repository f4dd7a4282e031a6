export interface RateRule {
  limit: number;
  windowMs: number;
}

export interface WindowCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  resetInMs: number;
}

/** Seconds a client should wait before trying again (the `Retry-After` header): at least 1. */
export function retryAfterSeconds(resetInMs: number): number {
  return Math.max(1, Math.ceil(resetInMs / 1000));
}

/** Fixed-window counters in this process's memory: the fallback when Redis is not configured or not answering. */
export class FixedWindowCounters {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly maxKeys = 100_000) {}

  hit(key: string, windowMs: number, now: number): WindowCount {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (!window && this.windows.size >= this.maxKeys) {
        this.sweep(now);
      }
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { count: window.count, resetInMs: window.resetAt - now };
  }

  /** Takes back one hit of the current window, if it is still open. */
  refund(key: string, now: number): void {
    const window = this.windows.get(key);
    if (window && window.resetAt > now && window.count > 0) {
      window.count--;
    }
  }

  get size(): number {
    return this.windows.size;
  }

  /** Forgets ended windows; if every window is live, the oldest half goes (memory stays bounded under a flood). */
  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) {
        this.windows.delete(key);
      }
    }
    if (this.windows.size >= this.maxKeys) {
      let excess = Math.ceil(this.windows.size / 2);
      for (const key of this.windows.keys()) {
        if (excess-- <= 0) {
          break;
        }
        this.windows.delete(key);
      }
    }
  }
}
