import { jest } from '@jest/globals';
import { type MessageRepository, ownerScope, type ThreadRepository } from '@app/persistence';
import { LEASE_RENEW_MS } from './lease';
import { ThreadLease } from './thread-lease';

/** Counts the lease's statements: renewals of the thread's lease, touches of the reply. */
class Counting {
  renewals = 0;
  touches: string[] = [];

  readonly threads = {
    acquireGenerationLease: async () => true,
    renewGenerationLease: async () => {
      this.renewals += 1;
      return true;
    },
    releaseGenerationLease: async () => undefined,
  } as unknown as ThreadRepository;

  readonly messages = {
    update: async (_scope: unknown, id: string, patch: object) => {
      expect(patch).toEqual({});
      this.touches.push(id);
      return null;
    },
  } as unknown as MessageRepository;
}

describe(ThreadLease.name, () => {
  const scope = ownerScope('user-1');

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should renew the lease and touch a reply that saved nothing since the last renewal', async () => {
    const db = new Counting();
    const lease = (await ThreadLease.acquire(db.threads, scope, 'thread-1'))!;
    const also = jest.fn(async () => undefined);

    lease.keep(db.messages, { messageId: 'reply-1', savedSince: () => false }, also);
    await jest.advanceTimersByTimeAsync(LEASE_RENEW_MS * 2);

    expect(db.renewals).toBe(2);
    expect(db.touches).toEqual(['reply-1', 'reply-1']);
    expect(also).toHaveBeenCalledTimes(2);
    await lease.release();
  });

  it('should not touch a reply whose text the batched flush saved since the last renewal', async () => {
    const db = new Counting();
    const lease = (await ThreadLease.acquire(db.threads, scope, 'thread-1'))!;
    let saving = true;
    const asked: number[] = [];

    lease.keep(db.messages, {
      messageId: 'reply-1',
      savedSince: (ms) => {
        asked.push(ms);
        return saving;
      },
    });
    await jest.advanceTimersByTimeAsync(LEASE_RENEW_MS * 2);
    expect(db.renewals).toBe(2);
    expect(db.touches).toEqual([]);
    expect(asked).toEqual([LEASE_RENEW_MS, LEASE_RENEW_MS]);

    // The model went quiet (nothing to save): the touch keeps the reply alive for the sweeper.
    saving = false;
    await jest.advanceTimersByTimeAsync(LEASE_RENEW_MS);
    expect(db.touches).toEqual(['reply-1']);

    await lease.release();
    await jest.advanceTimersByTimeAsync(LEASE_RENEW_MS * 2);
    expect(db.renewals).toBe(3);
  });
});
