export interface SseEvent {
  event: string;
  data: any;
}

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
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let cut: number;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            if (block.startsWith(':')) {
              continue;
            }
            const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            push({ event, data: JSON.parse(data) });
          }
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
