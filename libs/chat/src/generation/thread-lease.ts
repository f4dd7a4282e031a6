import type { MessageRepository, OwnerScope, ThreadRepository } from '@app/persistence';
import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LEASE_MS, LEASE_RENEW_MS } from './lease';

/** This process, in the holder names of its leases. */
const INSTANCE = randomUUID();

/**
 * One generation at a time per thread, across instances: a lease on the thread row (holder, expiry) taken
 * atomically, renewed while the reply streams and released at the end, so that it frees itself after a crash.
 */
export class ThreadLease {
  private static readonly logger = new Logger('ThreadLease');
  private renewal: NodeJS.Timeout | null = null;

  private constructor(
    private readonly threads: ThreadRepository,
    private readonly scope: OwnerScope,
    readonly threadId: string,
    readonly holder: string,
  ) {}

  /** Takes the thread's lease; null when another generation holds it. */
  static async acquire(threads: ThreadRepository, scope: OwnerScope, threadId: string): Promise<ThreadLease | null> {
    const holder = `${INSTANCE}:${randomUUID()}`;
    const now = new Date();
    const taken = await threads.acquireGenerationLease(
      scope,
      threadId,
      holder,
      new Date(now.getTime() + LEASE_MS),
      now,
    );
    return taken ? new ThreadLease(threads, scope, threadId, holder) : null;
  }

  /**
   * Renews the lease every LEASE_RENEW_MS until released, touching the reply too: that tells the ReplySweeper its
   * generation is alive. A reply whose text was saved since the last renewal (`savedSince`: the batched flush sets
   * its `updatedAt`) needs no touch. `also` renews what the generation holds with it (its slot among the user's).
   */
  keep(
    messages: MessageRepository,
    reply: { messageId: string; savedSince(ms: number): boolean },
    also: () => Promise<unknown> = async () => undefined,
  ): void {
    this.renewal = setInterval(() => {
      void Promise.all([
        this.threads.renewGenerationLease(this.scope, this.threadId, this.holder, new Date(Date.now() + LEASE_MS)),
        reply.savedSince(LEASE_RENEW_MS) ? undefined : messages.update(this.scope, reply.messageId, {}),
        also(),
      ]).catch((err: unknown) => ThreadLease.logger.warn({ err }, 'lease renewal failed'));
    }, LEASE_RENEW_MS);
  }

  /** Frees the thread (idempotent in effect: a lease already taken over is left alone by the repository). */
  async release(): Promise<void> {
    if (this.renewal) {
      clearInterval(this.renewal);
      this.renewal = null;
    }
    await this.threads.releaseGenerationLease(this.scope, this.threadId, this.holder);
  }
}
