import { AppError } from '@app/common';
import { MessageRepository, ownerScope } from '@app/persistence';
import { Injectable } from '@nestjs/common';
import { toMessageView, type MessageView } from '../presenters';
import { ReplyFeed } from '../events/reply-feed';
import { ThreadEventBus } from '../events/thread-event-bus';
import { type InFlightReply, isReplyEvent, messageIdOf, type ReplyEvent } from '../events/thread-events';
import type { Started } from './started';
import { FOLLOWER_RECHECK_MS } from './lease';

export interface AttachedReply {
  /** The reply as far as it has got when the caller starts relaying; later deltas have `seq` above `sofar.seq`. */
  sofar: InFlightReply;
  detach: () => void;
}

/** Follows one reply on its thread's event channel: what SSE responses and waiting REST calls relay. */
@Injectable()
export class ReplyFollower {
  constructor(
    private readonly bus: ThreadEventBus,
    private readonly messages: MessageRepository,
  ) {}

  /**
   * Attaches to a reply wherever it is generated: a `ReplyFeed` of its thread subscribes first, then reads where it
   * has got (the in-flight snapshot; when it runs elsewhere or is over, also the stored message), and relays only
   * what comes after that, so the caller sees no gap and no duplicate. `onStart` runs once with the state so far,
   * before any `onEvent`; the reply's end (done or error) is always the last event.
   */
  async attach(
    ownerId: string,
    started: Started,
    onStart: (sofar: InFlightReply) => void,
    onEvent: (event: ReplyEvent) => void,
  ): Promise<AttachedReply> {
    const { threadId, id: messageId } = started.assistantMessage;
    let sofar: InFlightReply = { messageId, content: started.assistantMessage.content, seq: 0 };
    let ended = false;
    let recheck: NodeJS.Timeout | null = null;
    const relay = (event: ReplyEvent) => {
      if (ended) {
        return; // the feed has dropped what `sofar` holds; only a second end can still come (a recheck)
      }
      ended = event.type !== 'message:delta';
      if (ended) {
        detach();
      }
      onEvent(event);
    };
    const feed = new ReplyFeed(this.bus, threadId, (event) => {
      if (isReplyEvent(event) && messageIdOf(event) === messageId) {
        relay(event);
      }
    });
    const detach = () => {
      feed.close();
      if (recheck) {
        clearInterval(recheck);
      }
    };
    let end: ReplyEvent | null = null;
    let remote = false;
    if (started.assistantMessage.status !== 'streaming') {
      end = endOf(toMessageView(started.assistantMessage));
    } else {
      const snapshot = await feed.read();
      if (snapshot?.messageId === messageId) {
        sofar = snapshot;
      }
      if (!feed.runsHere || snapshot?.messageId !== messageId) {
        // Generated elsewhere (a retry reaching another instance) or already over: the stored reply says the rest.
        const stored = await this.messages.findById(ownerScope(ownerId), messageId);
        if (stored && snapshot?.messageId !== messageId) {
          sofar = { messageId, content: stored.content, seq: 0 };
        }
        if (stored && stored.status !== 'streaming') {
          end = endOf(toMessageView(stored));
        }
        remote = true;
      }
    }
    onStart(sofar);
    feed.start();
    if (end) {
      relay(end);
    }
    if (remote && !ended) {
      // Its end event can be lost (Redis down when it was published, a missed sweep): the stored reply is the
      // truth, re-read until it has ended, so that no follower waits for ever.
      recheck = setInterval(() => void this.recheck(ownerId, threadId, messageId, relay), FOLLOWER_RECHECK_MS);
      recheck.unref();
    }
    return { sofar, detach };
  }

  private async recheck(
    ownerId: string,
    threadId: string,
    messageId: string,
    relay: (event: ReplyEvent) => void,
  ): Promise<void> {
    const stored = await this.messages.findById(ownerScope(ownerId), messageId).catch(() => undefined);
    if (stored === null) {
      relay({ type: 'message:error', threadId, messageId, error: { code: 'not_found', message: 'Message not found' } });
    } else if (stored && stored.status !== 'streaming') {
      relay(endOf(toMessageView(stored)));
    }
  }

  /** Waits for the reply's end and returns it as stored; throws the generation's error as an AppError. */
  async outcome(
    ownerId: string,
    started: Started,
  ): Promise<{ userMessage: MessageView; assistantMessage: MessageView }> {
    const userMessage = toMessageView(started.userMessage);
    if (started.local) {
      const { message, error } = await started.local.done;
      if (error) {
        throw error;
      }
      return { userMessage, assistantMessage: message };
    }
    const end = await new Promise<ReplyEvent>((resolve) => {
      void this.attach(
        ownerId,
        started,
        () => undefined,
        (event) => {
          if (event.type !== 'message:delta') {
            resolve(event);
          }
        },
      );
    });
    if (end.type === 'message:error') {
      throw new AppError(end.error.code, end.error.message);
    }
    return { userMessage, assistantMessage: (end as Extract<ReplyEvent, { type: 'message:done' }>).message };
  }
}

/** The end event of a stored reply that is no longer streaming. */
function endOf(message: MessageView): ReplyEvent {
  return message.status === 'error'
    ? {
        type: 'message:error',
        threadId: message.threadId,
        messageId: message.id,
        error: { code: 'upstream_error', message: 'The reply failed' },
      }
    : { type: 'message:done', threadId: message.threadId, message };
}
