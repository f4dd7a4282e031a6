import type { Response } from 'express';

/**
 * Starts a Server-Sent Events response (every stream of ours: replies over SSE, OpenAI-compatible chunks): the
 * headers, sent at once, and no Nagle delay on the socket. `no-transform` and `X-Accel-Buffering: no` keep proxies
 * (nginx) from compressing or buffering it. `firstEvent`: an event the caller has at hand, sent with the headers in
 * one write (a separate write of the headers costs a syscall per response).
 */
export function startEventStream(res: Response, firstEvent?: string): void {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.socket?.setNoDelay(true);
  if (firstEvent === undefined) {
    res.flushHeaders();
  } else {
    res.write(firstEvent);
  }
}
