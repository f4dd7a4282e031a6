/**
 * The longest the event loop was held while `attack` ran, in ms, from a probe ticking every 5 ms: the gap between
 * two ticks (and between the last tick and the end), counted only as far as the main thread was using the CPU during
 * it. A loop blocked by work uses the CPU the whole time; on a 2-core machine shared by a dozen busy processes, a
 * thread waiting for its turn does not, and that wait is the machine's, not the server's. `wallMs` is the raw gap.
 * The in-process harness runs the server in the test's own process, so this is the server's event loop.
 */
export async function maxLoopDelayDuring<T>(
  attack: () => Promise<T>,
): Promise<{ result: T; maxDelayMs: number; wallMs: number }> {
  const TICK_MS = 5;
  let last = performance.now();
  let lastCpu = cpuMs();
  let worst = 0;
  let worstWall = 0;
  const tick = () => {
    const now = performance.now();
    const cpu = cpuMs();
    const gap = now - last - TICK_MS;
    worstWall = Math.max(worstWall, gap);
    worst = Math.max(worst, Math.min(gap, cpu - lastCpu));
    last = now;
    lastCpu = cpu;
  };
  const probe = setInterval(tick, TICK_MS);
  try {
    const result = await attack();
    // A block that ended just before the attack resolved has not been seen by a tick yet.
    await new Promise((resolve) => setTimeout(resolve, TICK_MS * 2));
    return { result, maxDelayMs: Math.max(0, worst), wallMs: Math.max(0, worstWall) };
  } finally {
    clearInterval(probe);
  }
}

/** CPU time the main thread has used, in ms (Node 23.9+; before, the whole process's: a higher figure). */
export function cpuMs(): number {
  const { user, system } = typeof process.threadCpuUsage === 'function' ? process.threadCpuUsage() : process.cpuUsage();
  return (user + system) / 1000;
}
