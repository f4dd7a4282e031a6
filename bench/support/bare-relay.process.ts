/**
 * The bare relay of `bench:gateway` and `bench:pipeline` (issue 17): the physical limit of relaying model streams on
 * this machine, with no framework, no database, no authentication and no validation. It speaks just enough of
 * confab's socket events for the benchmark's client workers: `thread:join` joins a Socket.IO room, `message:send`
 * posts the prompt to the same fake upstream (`stream: true`), reads the SSE body with a plain streaming parser and
 * emits every content delta to the thread's room as `message:delta` (seq from 1), then `message:done` with the whole
 * content. Over HTTP, `POST /relay` with `{ "content": ... }` answers the same reply as Server-Sent Events (`delta`
 * with `{ seq, delta }`, then `done` with `{ content }`), the way confab's `POST /api/threads/:id/messages` does: the
 * time to first token of an extra HTTP hop and nothing else.
 *
 * Started by the benchmark with IPC; answers `{ type: 'ready', url }` once listening on loopback. Argument: the
 * upstream's base URL (`http://127.0.0.1:<port>/v1`).
 */
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
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

/** How a relayed reply goes out: `delta` for each content delta, then `done` or `error`, once. */
interface ReplySink {
  delta(seq: number, delta: string): void;
  done(content: string): void;
  error(message: string): void;
}

/** Streams the upstream's reply to `content` into `sink`, each delta in the turn its chunk is read. */
function relay(content: string, sink: ReplySink): void {
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
            sink.delta(++seq, delta);
          }
        }),
      );
      res.on('end', () => sink.done(text));
    },
  );
  req.on('error', (err) => sink.error(err.message));
  req.end(body);
}

/** The reply to a thread's room, as confab's socket events. */
function toRoom(io: Server, threadId: string): ReplySink {
  const room = `thread:${threadId}`;
  const messageId = `bare-${++messageCounter}`;
  return {
    delta: (seq, delta) => io.to(room).emit('message:delta', { threadId, messageId, seq, delta }),
    done: (content) =>
      io.to(room).emit('message:done', { threadId, message: { id: messageId, content, status: 'complete' } }),
    error: (message) =>
      io.to(room).emit('message:error', { threadId, messageId, error: { code: 'upstream', message } }),
  };
}

/** `POST /relay`: the reply as Server-Sent Events on the response. */
function relayOverHttp(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const { content } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content: string };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (name: string, data: object) => res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    relay(content, {
      delta: (seq, delta) => event('delta', { seq, delta }),
      done: (text) => {
        event('done', { content: text });
        res.end();
      },
      error: (message) => {
        event('error', { message });
        res.end();
      },
    });
  });
}

function main(): void {
  // Socket.IO answers its own path; everything else is the HTTP relay.
  const http = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/relay') {
      relayOverHttp(req, res);
    } else {
      res.writeHead(404).end();
    }
  });
  const io = new Server(http, { path: '/socket.io', serveClient: false });
  io.on('connection', (socket: Socket) => {
    socket.on('thread:join', (payload: { threadId: string }, ack: Ack) => {
      void socket.join(`thread:${payload.threadId}`);
      ack({ ok: true });
    });
    socket.on('message:send', (payload: { threadId: string; content: string }, ack: Ack) => {
      ack({ ok: true });
      relay(payload.content, toRoom(io, payload.threadId));
    });
  });
  http.listen(0, '127.0.0.1', () => {
    const { port } = http.address() as AddressInfo;
    process.send!({ type: 'ready', url: `http://127.0.0.1:${port}` });
  });
  process.once('disconnect', () => process.exit(0));
}

main();
