import type { AuthUser } from '@app/auth';
import { UserEventRate } from '@app/chat';
import { AppError, createValidationPipe, jsonTooDeepError, toErrorBody, valueTooDeep } from '@app/common';
import { Injectable, Logger, type Type } from '@nestjs/common';
import { TOO_DEEP_PAYLOAD } from './depth-limited-parser';
import { SocketConnections } from './socket-connections';
import type { Ack, AckError, ClientToServerEvents } from './socket-events';
import type { ChatSocket } from './socket-types';

/** What the ack of a client event carries on success, from the event map. */
type Success<E extends keyof ClientToServerEvents> = Extract<
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0],
  { ok: true }
>;
export type Answer<E extends keyof ClientToServerEvents> = Omit<Success<E>, 'ok'>;

/**
 * Every client event goes through `handle`: the credential's deadline, the socket's and the user's event budgets,
 * the payload through the same validation pipe as HTTP bodies, then the handler; its answer or any error becomes
 * the ack (an error from the same body as the HTTP filter writes).
 */
@Injectable()
export class SocketRequests {
  private readonly logger = new Logger('ChatGateway');
  private readonly pipe = createValidationPipe();

  constructor(
    private readonly connections: SocketConnections,
    private readonly userRate: UserEventRate,
  ) {}

  async handle<E extends keyof ClientToServerEvents, P extends object>(
    socket: ChatSocket,
    _event: E,
    type: Type<P>,
    body: unknown,
    handler: (user: AuthUser, payload: P) => Promise<Answer<E>>,
  ): Promise<Ack<Answer<E>>> {
    try {
      this.connections.assertLive(socket);
      // Per socket, then per user: the user's budget is shared with their REST sends.
      if (!socket.data.bucket.take() || !this.userRate.take(socket.data.user.userId)) {
        throw new AppError('rate_limited', 'Too many events: slow down', {
          retryAfterSeconds: socket.data.bucket.retryAfterSeconds(),
        });
      }
      // The parser replaced a too deep payload (checked on its text); a deep value from elsewhere is checked here.
      if (body === TOO_DEEP_PAYLOAD || valueTooDeep(body)) {
        throw jsonTooDeepError();
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw AppError.validation([{ field: 'payload', message: 'payload must be an object' }]);
      }
      const payload = (await this.pipe.transform(body, { type: 'body', metatype: type })) as P;
      return { ok: true, ...(await handler(socket.data.user, payload)) };
    } catch (err) {
      return this.ackError(err);
    }
  }

  private ackError(err: unknown): AckError {
    const { body } = toErrorBody(err, this.logger);
    const { error: code, message, details, errorId } = body;
    return { ok: false, error: { code, message, ...(details ? { details } : {}), ...(errorId ? { errorId } : {}) } };
  }
}
