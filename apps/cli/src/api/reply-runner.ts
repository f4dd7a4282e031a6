import type { AnswerWriter } from '../output/answer-writer';
import type { ApiClient } from './api-client';
import { type ReplyRequest, stopReply, streamReply } from './reply-stream';
import type { Message } from './resources';

export interface ReplyOutcome {
  message: Message;
  /** The user pressed Ctrl+C: the reply was stopped (its stored status is `stopped`). */
  interrupted: boolean;
}

/**
 * Streams one reply into `writer`. The first Ctrl+C (SIGINT) asks the server to stop it, and the stream then ends
 * with the stored `stopped` message; a second one calls `exit` at once. A Ctrl+C that comes before the server has
 * started the reply is kept and sent as soon as it has.
 */
export async function runReply(
  client: ApiClient,
  request: ReplyRequest,
  writer: AnswerWriter | null,
  exit: () => void,
): Promise<ReplyOutcome> {
  let interrupts = 0;
  let started = false;
  const stop = () => {
    stopReply(client, request.threadId).catch(() => undefined);
  };
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      writer?.end();
      exit();
      return;
    }
    if (started) {
      stop();
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const message = await streamReply(client, request, {
      onCreated: () => {
        started = true;
        if (interrupts > 0) {
          stop();
        }
      },
      onDelta: (text) => writer?.write(text),
    });
    return { message, interrupted: interrupts > 0 };
  } finally {
    writer?.end();
    process.off('SIGINT', onSigint);
  }
}
