import { StringDecoder } from 'node:string_decoder';

/** One Server-Sent Event: its `event` field (null when absent) and its `data` lines joined with `\n`. */
export interface ServerSentEvent {
  event: string | null;
  data: string;
}

/**
 * A lean incremental Server-Sent Events parser for the provider's streamed completions (the `openai` SDK's own
 * decoder layers one async generator per stage over the bytes; profiles of many concurrent streams showed it as a
 * large share of the server's CPU). Feed it the body's chunks as they come; it returns the events they complete.
 * Lines end with LF, CRLF or CR; a blank line ends an event; `:` comments, `id:`, `retry:` and unknown fields are
 * ignored; an event without data is not dispatched; an unfinished event at the end of the stream is dropped (as the
 * SSE standard says).
 */
export class SseReader {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  /** The event's data so far (its lines joined with `\n`), null before its first data line. */
  private data: string | null = null;
  private event: string | null = null;
  /** The last chunk ended with CR: an LF starting the next one belongs to that line end. */
  private pendingCr = false;
  /** No text yet: a byte order mark starting the stream is dropped (as the SSE standard says). */
  private atStart = true;

  /** The events completed by this chunk, in order. */
  push(chunk: Uint8Array): ServerSentEvent[] {
    let text = this.decoder.write(chunk);
    if (text === '') {
      return []; // an empty chunk, or part of a character: nothing changes (an LF may still follow a CR)
    }
    if (this.atStart) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) {
        text = text.slice(1);
      }
    }
    if (this.pendingCr && text.startsWith('\n')) {
      text = text.slice(1);
    }
    this.pendingCr = false;
    // Line ends are searched from where the last push stopped (the tail has none), and each index is looked up
    // again only once passed: linear in the bytes, however they are cut and however many events a chunk holds.
    const from = this.buffer.length;
    this.buffer += text;
    const events: ServerSentEvent[] = [];
    let start = 0;
    let lf = this.buffer.indexOf('\n', from);
    let cr = this.buffer.indexOf('\r', from);
    for (;;) {
      if (lf === -1 && cr === -1) {
        break;
      }
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 === this.buffer.length) {
          // CR at the very end: it ends this line, and an LF may follow in the next chunk.
          this.pendingCr = true;
          next = cr + 1;
        } else {
          next = this.buffer.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        }
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end), events);
      start = next;
      if (lf !== -1 && lf < start) {
        lf = this.buffer.indexOf('\n', start);
      }
      if (cr !== -1 && cr < start) {
        cr = this.buffer.indexOf('\r', start);
      }
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
    return events;
  }

  private line(line: string, events: ServerSentEvent[]): void {
    if (line === '') {
      if (this.data !== null) {
        events.push({ event: this.event, data: this.data });
      }
      this.data = null;
      this.event = null;
      return;
    }
    if (line.startsWith('data: ')) {
      // The usual line, by far: no field parsing.
      this.addData(line.slice(6));
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32 /* space */) {
      value = value.slice(1);
    }
    if (field === 'data') {
      this.addData(value);
    } else if (field === 'event') {
      this.event = value;
    }
  }

  private addData(value: string): void {
    this.data = this.data === null ? value : `${this.data}\n${value}`;
  }
}
