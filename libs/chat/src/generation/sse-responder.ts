import type { Response } from 'express';
import { toMessageView } from '../presenters';
import type { Started } from './generation.service';
import type { ReplyFollower } from './reply-follower';
import type { ThreadEventBus } from './thread-event-bus';

const HEARTBEAT_MS = 15_000;

function write(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Streams one reply as Server-Sent Events: `message`, `created`, `delta`*, then `done` or `error`.
 * A client that disconnects only stops listening; the generation goes on (POST /stop stops it).
 */
export function streamReply(res: Response, started: Started, follower: ReplyFollower, bus: ThreadEventBus): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  const { assistantMessage } = started;
  write(res, 'message', toMessageView(started.userMessage));
  if (assistantMessage.status !== 'streaming') {
    write(res, 'created', { ...toMessageView(assistantMessage), status: 'streaming' });
    write(res, 'done', toMessageView(assistantMessage));
    res.end();
    return;
  }
  // A retry joining a reply already under way starts from what has been generated so far.
  const snapshot = bus.localSnapshot(assistantMessage.threadId);
  const sofar = snapshot?.messageId === assistantMessage.id ? snapshot : null;
  write(res, 'created', { ...toMessageView(assistantMessage), content: sofar?.content ?? assistantMessage.content });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stop = follower.follow(assistantMessage.threadId, assistantMessage.id, (event) => {
    switch (event.type) {
      case 'message:delta':
        if (!sofar || event.seq > sofar.seq) {
          write(res, 'delta', { messageId: event.messageId, seq: event.seq, delta: event.delta });
        }
        return;
      case 'message:done':
        write(res, 'done', event.message);
        break;
      case 'message:error':
        write(res, 'error', { messageId: event.messageId, error: event.error });
        break;
    }
    clearInterval(heartbeat);
    res.end();
  });
  res.on('close', () => {
    clearInterval(heartbeat);
    stop();
  });
}
