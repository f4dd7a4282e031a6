import { MessageRepository } from '@app/persistence';
import { Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { INTERRUPTED, LEASE_MS, SWEEP_INTERVAL_MS } from './lease';
import { ThreadEventBus } from '../events/thread-event-bus';

/** Replies claimed per sweep; the rest wait for the next one. */
const SWEEP_BATCH = 100;

/**
 * Repairs replies left `streaming` by a generation that died with its instance (kill -9, a crash, a lost host): every
 * instance, every SWEEP_INTERVAL_MS, claims the replies whose generation stopped renewing its lease (each one claimed
 * by exactly one instance), marks them `error` and publishes their end, so every follower (SSE, sockets, a waiting
 * REST call, a retry with the same clientMessageId) finishes. The thread's lease has expired by then: it is free.
 */
@Injectable()
export class ReplySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReplySweeper.name);
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    private readonly messages: MessageRepository,
    private readonly bus: ThreadEventBus,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.sweeping;
  }

  /** One sweep (never two at once in one process); failures are logged and retried at the next one. */
  sweep(): Promise<void> {
    this.sweeping ??= this.repair()
      .catch((err: unknown) => this.logger.warn({ err }, 'sweeping interrupted replies failed'))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async repair(): Promise<void> {
    const claimed = await this.messages.claimInterrupted(new Date(Date.now() - LEASE_MS), SWEEP_BATCH);
    for (const message of claimed) {
      this.bus.publish({
        type: 'message:error',
        threadId: message.threadId,
        messageId: message.id,
        error: INTERRUPTED,
      });
    }
    if (claimed.length > 0) {
      this.logger.warn(`marked ${claimed.length} interrupted replies as error`);
    }
  }
}
