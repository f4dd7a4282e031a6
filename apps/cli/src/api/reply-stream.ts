import { CliError } from '../errors';
import type { ApiClient } from './api-client';
import type { Message } from './resources';

export interface ReplyRequest {
  threadId: string;
  /** `send`: a new question; `regenerate`: another answer to the active question. */
  kind: 'send' | 'regenerate';
  body: Record<string, unknown>;
}

/** The SSE `error` event: the reply failed; its partial text is stored with status `error`. */
export class ReplyFailed extends CliError {
  constructor(
    readonly messageId: string,
    readonly code: string,
    message: string,
  ) {
    super(`the reply failed: ${message} [${code}]`);
    this.name = 'ReplyFailed';
  }
}

export interface ReplyListener {
  onCreated?: (assistant: Message) => void;
  onDelta: (text: string) => void;
}

/**
 * Sends a question (or asks for another answer) and follows the reply over SSE: `message`, `created`, `delta`*,
 * then `done` (status `complete` or `stopped`) or `error`. Resolves with the final assistant message.
 */
export async function streamReply(client: ApiClient, request: ReplyRequest, listener: ReplyListener): Promise<Message> {
  const path = `/threads/${encodeURIComponent(request.threadId)}/${request.kind === 'send' ? 'messages' : 'regenerate'}`;
  let shown = 0;
  for await (const event of client.events('POST', path, { body: request.body })) {
    const data = JSON.parse(event.data) as Record<string, unknown>;
    switch (event.event) {
      case 'created': {
        const assistant = data as unknown as Message;
        listener.onCreated?.(assistant);
        // A retry that joined a reply under way gets the text so far here.
        if (assistant.content) {
          listener.onDelta(assistant.content);
          shown = assistant.content.length;
        }
        break;
      }
      case 'delta':
        listener.onDelta(String(data.delta ?? ''));
        shown += String(data.delta ?? '').length;
        break;
      case 'done': {
        const final = data as unknown as Message;
        // The stored text is the truth; anything the stream did not show (never expected) is shown now.
        if (final.content.length > shown) {
          listener.onDelta(final.content.slice(shown));
        }
        return final;
      }
      case 'error': {
        const error = (data.error ?? {}) as { code?: string; message?: string };
        throw new ReplyFailed(String(data.messageId), error.code ?? 'upstream_error', error.message ?? 'unknown error');
      }
      default:
        break;
    }
  }
  throw new CliError('the connection to the server was lost before the reply ended');
}

/** Asks the server to stop the thread's running reply; `false` when none was running any more. */
export async function stopReply(client: ApiClient, threadId: string): Promise<boolean> {
  try {
    await client.json('POST', `/threads/${encodeURIComponent(threadId)}/stop`);
    return true;
  } catch (err) {
    if (err instanceof CliError && 'status' in err && err.status === 404) {
      return false;
    }
    throw err;
  }
}
