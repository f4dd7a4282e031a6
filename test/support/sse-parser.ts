/** One Server-Sent Event as the confab streams send it: its name (`message` when unnamed) and its JSON data. */
export interface SseEvent {
  event: string;
  data: any;
}

/**
 * Splits a Server-Sent Events byte stream into events as chunks arrive (the one parser of the tests and the
 * benchmarks): blocks end with a blank line, `:` comments (pings) are skipped, `data:` lines are joined and parsed
 * as JSON.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = '';

  /** The events this chunk completes, in order. */
  push(chunk: Uint8Array): SseEvent[] {
    this.buffer += this.decoder.decode(chunk, { stream: true });
    const events: SseEvent[] = [];
    let cut: number;
    while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, cut);
      this.buffer = this.buffer.slice(cut + 2);
      if (block.startsWith(':')) {
        continue;
      }
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      events.push({ event, data: JSON.parse(data) });
    }
    return events;
  }
}
