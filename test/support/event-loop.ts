import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

/**
 * The longest the event loop was held while `attack` ran, in ms, from a probe ticking every 5 ms: the gap between
 * two ticks (and between the last tick and the end), counted only as far as the main thread was using the CPU during
 * it, less the garbage collections in it. A loop blocked by work uses the CPU the whole time; on a 2-core machine
 * shared by a dozen busy processes, a thread waiting for its turn does not, and that wait is the machine's, not the
 * server's. A collection of the heap (the test's and all earlier suites' too, in the full run) is not work a request
 * made the server do: in full runs one took 180-280 ms of the main thread. `wallMs` is the raw gap.
 * The in-process harness runs the server in the test's own process, so this is the server's event loop.
 */
export async function maxLoopDelayDuring<T>(
  attack: () => Promise<T>,
): Promise<{ result: T; maxDelayMs: number; wallMs: number; gcMs: number }> {
  const TICK_MS = 5;
  const gaps: { from: number; to: number; busyMs: number }[] = [];
  const collections: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => collections.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let lastCpu = cpuMs();
  let worstWall = 0;
  const tick = () => {
    const now = performance.now();
    const cpu = cpuMs();
    const gap = now - last - TICK_MS;
    worstWall = Math.max(worstWall, gap);
    gaps.push({ from: last, to: now, busyMs: Math.min(gap, cpu - lastCpu) });
    last = now;
    lastCpu = cpu;
  };
  const probe = setInterval(tick, TICK_MS);
  try {
    const result = await attack();
    // A block that ended just before the attack resolved has not been seen by a tick yet.
    await new Promise((resolve) => setTimeout(resolve, TICK_MS * 2));
    tick();
    // Collection entries are delivered after the fact: let the last ones arrive.
    await new Promise((resolve) => setTimeout(resolve, 20));
    let worst = 0;
    for (const { from, to, busyMs } of gaps) {
      const gcMs = collections
        .filter((c) => c.startTime >= from && c.startTime < to)
        .reduce((sum, c) => sum + c.duration, 0);
      worst = Math.max(worst, busyMs - gcMs);
    }
    const gcMs = collections.reduce((max, c) => Math.max(max, c.duration), 0);
    return { result, maxDelayMs: Math.max(0, worst), wallMs: Math.max(0, worstWall), gcMs };
  } finally {
    clearInterval(probe);
    observer.disconnect();
  }
}

/** CPU time the main thread has used, in ms (Node 23.9+; before, the whole process's: a higher figure). */
export function cpuMs(): number {
  const { user, system } = typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage() : process.cpuUsage();
  return (user + system) / 1000;
}
