/**
 * The longest the event loop was held while `attack` ran, in ms, from a probe ticking every 5 ms (the gap between
 * two ticks, and between the last tick and the end). The in-process harness runs the server in the test's own
 * process, so this is the server's event loop.
 */
export async function maxLoopDelayDuring<T>(attack: () => Promise<T>): Promise<{ result: T; maxDelayMs: number }> {
  const TICK_MS = 5;
  let last = performance.now();
  let worst = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - TICK_MS);
    last = now;
  }, TICK_MS);
  try {
    const result = await attack();
    // A block that ended just before the attack resolved has not been seen by a tick yet.
    await new Promise((resolve) => setTimeout(resolve, TICK_MS * 2));
    return { result, maxDelayMs: Math.max(0, worst) };
  } finally {
    clearInterval(probe);
  }
}

/**
 * The longest event-loop delay of a server in another process since the previous call: prom-client's
 * `confab_nodejs_eventloop_lag_max_seconds` (from `monitorEventLoopDelay`, reset on every scrape).
 */
export async function serverLoopDelayMs(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('confab_nodejs_eventloop_lag_max_seconds '));
  if (!line) {
    throw new Error('no event-loop lag metric');
  }
  return Number(line.split(' ')[1]) * 1000;
}
