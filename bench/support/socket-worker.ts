/**
 * A client process for the gateway benchmark: holds many Socket.IO connections (as browser tabs make them:
 * WebSocket transport, one connection each) and runs streams on command over IPC, stamping every received
 * `message:delta` with process.hrtime.bigint() as the first thing its handler does.
 */
import { io, type Socket } from 'socket.io-client';

interface ConnectCommand {
  id: number;
  type: 'connect';
  url: string;
  tokens: string[];
  concurrency: number;
}

interface RunCommand {
  id: number;
  type: 'run';
  /** Socket indexes (in connect order) that join a thread; all joins are acked before any send. */
  joins: { socket: number; threadId: string }[];
  /** Sends, each `at` ms after the joins are done. */
  sends: { socket: number; threadId: string; content: string; at: number }[];
  /** The (socket, thread) pairs whose reply is recorded until its `message:done`. */
  watch: { socket: number; threadId: string }[];
  timeoutMs: number;
}

type Command = ConnectCommand | RunCommand | { id: number; type: 'close' };

/** One reply as one socket saw it. */
export interface WatchedReply {
  socket: number;
  threadId: string;
  seqs: number[];
  lens: number[];
  /** Receipt times as offsets (ns) from `base`. */
  times: number[];
  content: string;
  done: { content: string; status: string } | null;
}

export interface RunResult {
  base: string;
  replies: WatchedReply[];
  joinErrors: string[];
  sendErrors: string[];
  timedOut: boolean;
}

const sockets: Socket[] = [];
/** Replies being watched, by `${socket}|${threadId}`. */
let watching = new Map<string, WatchedReply>();
let base = process.hrtime.bigint();
let pendingDone = 0;
let onAllDone: (() => void) | null = null;

function record(index: number, socket: Socket): void {
  socket.on('message:delta', (p: { threadId: string; seq: number; delta: string }) => {
    const t = process.hrtime.bigint();
    const reply = watching.get(`${index}|${p.threadId}`);
    if (reply) {
      reply.seqs.push(p.seq);
      reply.lens.push(p.delta.length);
      reply.times.push(Number(t - base));
      reply.content += p.delta;
    }
  });
  socket.on('message:done', (p: { threadId: string; message: { content: string; status: string } }) => {
    const reply = watching.get(`${index}|${p.threadId}`);
    if (reply && !reply.done) {
      reply.done = { content: p.message.content, status: p.message.status };
      if (--pendingDone === 0) {
        onAllDone?.();
      }
    }
  });
}

function connectOne(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      timeout: 30_000,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error) => {
      socket.close();
      reject(err);
    });
  });
}

/** Connects one socket per token; the i-th token's socket gets index `start + i` (a hole if it was refused). */
async function connect(cmd: ConnectCommand) {
  const started = Date.now();
  const start = sockets.length;
  sockets.length += cmd.tokens.length;
  let next = 0;
  let connected = 0;
  let failed = 0;
  let firstError: string | null = null;
  const lanes = Array.from({ length: Math.min(cmd.concurrency, cmd.tokens.length) }, async () => {
    while (next < cmd.tokens.length) {
      const i = next++;
      try {
        const socket = await connectOne(cmd.url, cmd.tokens[i]);
        record(start + i, socket);
        sockets[start + i] = socket;
        connected += 1;
      } catch (err) {
        failed += 1;
        firstError ??= (err as Error).message;
      }
    }
  });
  await Promise.all(lanes);
  return { start, connected, failed, firstError, ms: Date.now() - started };
}

function ack(socket: Socket | undefined, event: string, payload: unknown, timeoutMs = 30_000): Promise<any> {
  return new Promise((resolve) => {
    if (!socket?.connected) {
      resolve({ ok: false, error: { code: 'disconnected', message: 'socket not connected' } });
      return;
    }
    socket.timeout(timeoutMs).emit(event, payload, (err: Error | null, response: any) => {
      resolve(err ? { ok: false, error: { code: 'timeout', message: err.message } } : response);
    });
  });
}

async function run(cmd: RunCommand): Promise<RunResult> {
  base = process.hrtime.bigint();
  watching = new Map(
    cmd.watch.map((w) => [
      `${w.socket}|${w.threadId}`,
      { socket: w.socket, threadId: w.threadId, seqs: [], lens: [], times: [], content: '', done: null },
    ]),
  );
  pendingDone = watching.size;
  const allDone = new Promise<void>((resolve) => (onAllDone = resolve));
  const joinErrors: string[] = [];
  const sendErrors: string[] = [];
  await Promise.all(
    cmd.joins.map(async (j) => {
      const r = await ack(sockets[j.socket], 'thread:join', { threadId: j.threadId });
      if (!r?.ok) {
        joinErrors.push(`${r?.error?.code}: ${r?.error?.message}`);
      }
    }),
  );
  const start = Date.now();
  await Promise.all(
    cmd.sends.map(async (s) => {
      await new Promise((r) => setTimeout(r, Math.max(0, s.at - (Date.now() - start))));
      const r = await ack(sockets[s.socket], 'message:send', { threadId: s.threadId, content: s.content });
      if (!r?.ok) {
        sendErrors.push(`${r?.error?.code}: ${r?.error?.message}`);
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    (pendingDone === 0 ? Promise.resolve() : allDone).then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), cmd.timeoutMs))),
  ]);
  clearTimeout(timer);
  onAllDone = null;
  const replies = [...watching.values()];
  watching = new Map();
  return { base: String(base), replies, joinErrors, sendErrors, timedOut };
}

process.on('message', (cmd: Command) => {
  const answer = (result: object) => process.send!({ id: cmd.id, ok: true, ...result });
  const fail = (err: unknown) => process.send!({ id: cmd.id, ok: false, error: String(err) });
  switch (cmd.type) {
    case 'connect':
      connect(cmd).then(answer, fail);
      return;
    case 'run':
      run(cmd).then(answer, fail);
      return;
    case 'close':
      for (const s of sockets.splice(0)) {
        s?.disconnect();
      }
      answer({});
      return;
  }
});
process.once('disconnect', () => process.exit(0));
