import type { ErrorCode } from '@app/common';
import type { InFlightReply, MessageView, ThreadView } from '@app/chat';

/** A refused event: the HTTP error body's code (`error`), message and details; `errorId` for an internal error. */
export type AckError = {
  ok: false;
  error: { code: ErrorCode; message: string; details?: { field: string; message: string }[]; errorId?: string };
};
export type Ack<T extends object = object> = ({ ok: true } & T) | AckError;
type Callback<T extends object = object> = (ack: Ack<T>) => void;

/** client -> server: every event takes an ack callback. */
export interface ClientToServerEvents {
  /**
   * A new access token of the same user (from /auth/refresh or a new sign-in), sent before the current one expires:
   * the socket is disconnected when its token (or its session) expires unless it re-authenticates this way.
   * `expiresAt` (ISO-8601) is the new deadline (null for an API key that never expires); an invalid token answers
   * `unauthorized`, another user's `forbidden`, and the socket keeps its previous deadline.
   */
  'auth:refresh': (payload: { token: string }, ack: Callback<{ expiresAt: string | null }>) => void;
  'thread:join': (
    payload: { threadId: string },
    ack: Callback<{ thread: ThreadView; streaming: InFlightReply | null }>,
  ) => void;
  'thread:leave': (payload: { threadId: string }, ack: Callback) => void;
  'message:send': (
    payload: {
      threadId: string;
      content: string;
      clientMessageId?: string;
      parentId?: string | null;
      model?: string;
      temperature?: number;
      maxTokens?: number;
    },
    ack: Callback<{ userMessage: MessageView; assistantMessageId: string }>,
  ) => void;
  /** A new answer to the question of `messageId` (default: the active answer), as a sibling made the active branch. */
  'message:regenerate': (
    payload: { threadId: string; messageId?: string; model?: string; temperature?: number; maxTokens?: number },
    ack: Callback<{ assistantMessageId: string; parentId: string | null }>,
  ) => void;
  'generation:stop': (payload: { threadId: string }, ack: Callback) => void;
}

/** server -> every socket that joined the thread, on any instance. */
export interface ServerToClientEvents {
  'message:created': (payload: { threadId: string; message: MessageView }) => void;
  /** `kind: 'reasoning'` for the model's thinking text (absent for the answer). */
  'message:delta': (payload: {
    threadId: string;
    messageId: string;
    seq: number;
    delta: string;
    kind?: 'reasoning';
  }) => void;
  'message:done': (payload: { threadId: string; message: MessageView }) => void;
  'message:error': (payload: {
    threadId: string;
    messageId: string;
    error: { code: ErrorCode; message: string };
  }) => void;
  'thread:updated': (payload: { thread: ThreadView }) => void;
  'thread:deleted': (payload: { threadId: string }) => void;
  /** To every socket of an instance that got SIGTERM: new sends are refused; the connection closes after `graceMs`. */
  'server:draining': (payload: { graceMs: number }) => void;
}
