/**
 * The bare relay of `bench:gateway` (issue 17): the physical limit of relaying model streams on this machine, with
 * no framework, no database, no authentication and no validation. It speaks just enough of confab's socket events
 * for the benchmark's client workers: `thread:join` joins a Socket.IO room, `message:send` posts the prompt to the
 * same fake upstream (`stream: true`), reads the SSE body with a plain streaming parser and emits every content
 * delta to the thread's room as `message:delta` (seq from 1), then `message:done` with the whole content.
 *
 * Started by the benchmark with IPC; answers `{ type: 'ready', url }` once listening on loopback. Argument: the
 * upstream's base URL (`http://127.0.0.1:<port>/v1`).
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';

const upstream = new URL(`${process.argv[2]}/chat/completions`);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

type Ack = (response: object) => void;

/**
 * Splits an SSE byte stream into its `data:` payloads: events end at a blank line; only `data:` lines matter here
 * (the upstream sends nothing else). Chunks may cut an event anywhere, so the unfinished tail is carried over.
 */
class SseDataParser {
  private tail = '';

  push(chunk: string, onData: (data: string) => void): void {
    let text = this.tail + chunk;
    let end = text.indexOf('\n\n');
    while (end !== -1) {
      const event = text.slice(0, end);
      for (const line of event.split('\n')) {
        if (line.startsWith('data:')) {
          onData(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
        }
      }
      text = text.slice(end + 2);
      end = text.indexOf('\n\n');
    }
    this.tail = text;
  }
}

let messageCounter = 0;

function relay(io: Server, threadId: string, content: string): void {
  const room = `thread:${threadId}`;
  const messageId = `bare-${++messageCounter}`;
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content }], stream: true });
  const req = request(
    upstream,
    {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    },
    (res) => {
      const parser = new SseDataParser();
      let seq = 0;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) =>
        parser.push(chunk, (data) => {
          if (data === '[DONE]') {
            return;
          }
          const delta = (JSON.parse(data) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta
            ?.content;
          if (delta) {
            text += delta;
            io.to(room).emit('message:delta', { threadId, messageId, seq: ++seq, delta });
          }
        }),
      );
      res.on('end', () =>
        io.to(room).emit('message:done', { threadId, message: { id: messageId, content: text, status: 'complete' } }),
      );
    },
  );
  req.on('error', (err) =>
    io.to(room).emit('message:error', { threadId, messageId, error: { code: 'upstream', message: err.message } }),
  );
  req.end(body);
}

function main(): void {
  const http = createServer();
  const io = new Server(http, { path: '/socket.io', serveClient: false });
  io.on('connection', (socket: Socket) => {
    socket.on('thread:join', (payload: { threadId: string }, ack: Ack) => {
      void socket.join(`thread:${payload.threadId}`);
      ack({ ok: true });
    });
    socket.on('message:send', (payload: { threadId: string; content: string }, ack: Ack) => {
      ack({ ok: true });
      relay(io, payload.threadId, payload.content);
    });
  });
  http.listen(0, '127.0.0.1', () => {
    const { port } = http.address() as AddressInfo;
    process.send!({ type: 'ready', url: `http://127.0.0.1:${port}` });
  });
  process.once('disconnect', () => process.exit(0));
}

main();
