// Artillery processor: one confab user on Socket.IO (the web app's transport). Records, as Artillery metrics:
//   confab.time_to_first_delta   ms from `message:send` to the reply's first `message:delta`
//   confab.reply_time            ms from `message:send` to `message:done`
//   confab.replies_complete / confab.replies_failed / confab.seq_gaps / confab.deltas (counters)
import { io } from 'socket.io-client';

const REPLY_TIMEOUT_MS = 120_000;

function ack(socket, event, payload) {
  return socket.timeout(30_000).emitWithAck(event, payload);
}

/** One reply: resolves with its timings once `message:done` (or `message:error`) for it arrives. */
function reply(socket, threadId, content) {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    let messageId = null;
    let firstDelta = null;
    let lastSeq = 0;
    let gaps = 0;
    let deltas = 0;
    const early = [];
    const onDelta = (p) => {
      if (p.threadId !== threadId) {
        return;
      }
      if (messageId === null) {
        early.push(p);
        return;
      }
      if (p.messageId !== messageId) {
        return;
      }
      firstDelta ??= performance.now();
      deltas += 1;
      if (p.seq !== lastSeq + 1) {
        gaps += 1;
      }
      lastSeq = p.seq;
    };
    const finish = (error) => (p) => {
      const id = p.message?.id ?? p.messageId;
      if (messageId === null || id !== messageId) {
        return;
      }
      cleanup();
      resolve({
        error,
        firstDeltaMs: firstDelta === null ? null : firstDelta - sent,
        replyMs: performance.now() - sent,
        gaps,
        deltas,
      });
    };
    const onDone = finish(null);
    const onError = finish('message:error');
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('no message:done within 120 s'));
    }, REPLY_TIMEOUT_MS);
    function cleanup() {
      clearTimeout(timer);
      socket.off('message:delta', onDelta).off('message:done', onDone).off('message:error', onError);
    }
    socket.on('message:delta', onDelta).on('message:done', onDone).on('message:error', onError);
    ack(socket, 'message:send', { threadId, content, clientMessageId: crypto.randomUUID() }).then(
      (res) => {
        if (!res?.ok) {
          cleanup();
          reject(new Error(`message:send refused: ${res?.error?.code ?? 'no ack'}`));
          return;
        }
        messageId = res.assistantMessageId;
        early.splice(0).forEach(onDelta);
      },
      (err) => {
        cleanup();
        reject(err);
      },
    );
  });
}

export async function chatOverSocket(context, events) {
  const target = process.env.CONFAB_URL ?? context.vars.target;
  const socket = io(target, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: { token: context.vars.token },
    reconnection: false,
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const join = await ack(socket, 'thread:join', { threadId: context.vars.threadId });
    if (!join?.ok) {
      throw new Error(`thread:join refused: ${join?.error?.code ?? 'no ack'}`);
    }
    for (let i = 0; i < Number(context.vars.replies); i++) {
      const r = await reply(
        socket,
        context.vars.threadId,
        `Question ${i + 1}: tell me about scaling out chat servers.`,
      );
      if (r.firstDeltaMs !== null) {
        events.emit('histogram', 'confab.time_to_first_delta', r.firstDeltaMs);
      }
      events.emit('histogram', 'confab.reply_time', r.replyMs);
      events.emit('counter', r.error ? 'confab.replies_failed' : 'confab.replies_complete', 1);
      events.emit('counter', 'confab.deltas', r.deltas);
      if (r.gaps > 0) {
        events.emit('counter', 'confab.seq_gaps', r.gaps);
      }
      await new Promise((resolve) => setTimeout(resolve, Number(context.vars.thinkSeconds) * 1000));
    }
    // An open tab: connected, idle (the server holds the socket and its heartbeat).
    await new Promise((resolve) => setTimeout(resolve, Number(context.vars.idleSeconds) * 1000));
  } finally {
    socket.close();
  }
}
