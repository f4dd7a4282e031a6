/** HTTP clients of the benchmarks: a small JSON client and a Server-Sent Events reader that timestamps arrivals. */
import { type SseEvent, SseParser } from '../../test/support/sse-parser';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

export class Api {
  constructor(readonly baseUrl: string) {}

  async json<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : null;
    if (!res.ok) {
      throw new ApiError(res.status, parsed, `${method} ${path}`);
    }
    return parsed as T;
  }

  async signup(email: string): Promise<{ token: string; userId: string }> {
    const r = await this.json('POST', '/auth/signup', { email, password: 'bench-password-1', name: 'Bench' });
    return { token: r.accessToken as string, userId: r.user.id as string };
  }

  async login(email: string): Promise<{ token: string; userId: string }> {
    const r = await this.json('POST', '/auth/login', { email, password: 'bench-password-1' });
    return { token: r.accessToken as string, userId: r.user.id as string };
  }

  async createThread(token: string, title = 'Bench thread'): Promise<string> {
    const r = await this.json('POST', '/threads', { title }, token);
    return r.id as string;
  }
}

/** Runs `task` over the items with at most `limit` in flight; results in item order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, i: number) => Promise<R>) {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

export interface TimedSseEvent extends SseEvent {
  /** process.hrtime.bigint() when the network chunk holding the event's end arrived. */
  t: bigint;
}

export interface TimedSse {
  status: number;
  /** process.hrtime.bigint() just before the request was made. */
  t0: bigint;
  events: TimedSseEvent[];
}

/**
 * POSTs with `Accept: text/event-stream` (fetch, like test/support/sse.ts) and reads the whole stream, stamping
 * each event with the arrival time of the chunk that completed it. Bounded by `timeoutMs`.
 */
export async function timedSse(url: string, token: string, body: unknown, timeoutMs = 60_000): Promise<TimedSse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: TimedSseEvent[] = [];
  const t0 = process.hrtime.bigint();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!res.ok || !res.body) {
      return { status: res.status, t0, events };
    }
    const parser = new SseParser();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const t = process.hrtime.bigint();
      for (const event of parser.push(chunk)) {
        events.push({ ...event, t });
      }
    }
    return { status: res.status, t0, events };
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const nsToMs = (ns: bigint) => Number(ns) / 1e6;
