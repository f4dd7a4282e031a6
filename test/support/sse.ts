import { type SseEvent, SseParser } from './sse-parser';

export type { SseEvent };

/**
 * POSTs with `Accept: text/event-stream` and reads the Server-Sent Events as they arrive (a real streaming
 * HTTP client: fetch + the body reader). `next()` resolves with each event in order; `abort()` drops the connection.
 */
export async function openSse(url: string, token: string, body: unknown) {
  const controller = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters: ((e: SseEvent | null) => void)[] = [];
  let ended = false;
  const push = (e: SseEvent | null) => {
    if (e === null) {
      ended = true;
    } else {
      events.push(e);
    }
    waiters.splice(0).forEach((w) => w(e));
  };
  let read = 0;
  if (res.ok && res.body) {
    void (async () => {
      const parser = new SseParser();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          parser.push(chunk).forEach(push);
        }
      } catch {
        // aborted
      }
      push(null);
    })();
  }
  return {
    status: res.status,
    headers: res.headers,
    /** The error body when the request was refused before streaming. */
    errorBody: res.ok ? null : await res.json(),
    events,
    /** The next event not yet returned by next(); null once the stream has ended. */
    next(): Promise<SseEvent | null> {
      if (read < events.length) {
        return Promise.resolve(events[read++]);
      }
      if (ended) {
        return Promise.resolve(null);
      }
      return new Promise((resolve) => waiters.push((e) => resolve(e === null ? null : events[read++])));
    },
    /** Every event until the stream ends. */
    async all(): Promise<SseEvent[]> {
      while ((await this.next()) !== null) {
        // drain
      }
      return events;
    },
    abort: () => controller.abort(),
  };
}
