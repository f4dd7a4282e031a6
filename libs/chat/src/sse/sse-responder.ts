import type { Response } from 'express';
import { toMessageView } from '../presenters';
import { deltaBody } from '../events/thread-events';
import { startEventStream } from './event-stream';
import type { Started } from '../generation/started';
import type { ReplyFollower } from '../generation/reply-follower';

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function write(res: Response, event: string, data: unknown): void {
  res.write(frame(event, data));
}

/**
 * Streams one reply as Server-Sent Events: `message`, `created` (with the text so far when a retry joins a reply
 * under way), `delta`*, then `done` or `error`. A client that disconnects only stops listening; the generation
 * goes on (POST /stop stops it). A `: ping` comment every `pingIntervalMs` (SSE_PING_INTERVAL) keeps proxies and
 * load balancers from closing the response while the model is silent; `X-Accel-Buffering: no` stops nginx from
 * buffering it.
 */
export async function streamReply(
  res: Response,
  ownerId: string,
  started: Started,
  follower: ReplyFollower,
  pingIntervalMs: number,
): Promise<void> {
  startEventStream(res, frame('message', toMessageView(started.userMessage)));

  const heartbeat = setInterval(() => res.write(': ping\n\n'), pingIntervalMs);
  let detach: (() => void) | null = null;
  let closed = false;
  const onClose = () => {
    closed = true;
    clearInterval(heartbeat);
    detach?.();
  };
  res.on('close', onClose);
  if (res.destroyed) {
    onClose(); // the client left while the send was admitted: its 'close' has fired already
  }
  ({ detach } = await follower.attach(
    ownerId,
    started,
    (sofar) =>
      // The reply as its `message:created` announced it (what sockets got), with the text so far.
      write(res, 'created', { ...started.created, content: sofar.content, status: 'streaming' }),
    (event) => {
      switch (event.type) {
        case 'message:delta':
          write(res, 'delta', deltaBody(event));
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
    },
  ));
  if (closed) {
    detach();
  }
}
