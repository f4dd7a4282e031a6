import { hashTag, type RedisClient, type RedisConnections } from '@app/common';
import type { InFlightReply } from './thread-events';

/** In-flight state outlives a crashed instance by at most this long. */
const INFLIGHT_TTL_MS = 60_000;
/** Expiry of a reply's in-flight state is pushed forward at most this often (not on every delta). */
const EXPIRY_REFRESH_MS = 10_000;
/** Drops a finished reply's in-flight state unless another reply of the thread has taken its place meanwhile. */
const DROP_IF_REPLY = `if redis.call('HGET', KEYS[1], 'messageId') == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0`;

type Multi = ReturnType<RedisClient['multi']>;

/**
 * A thread's in-flight reply in Redis, as other instances' snapshots read it: a hash (`messageId`, `seq`) and the
 * answer so far, both under the thread's hash tag (`inflight:{<threadId>}:meta|content`: one cluster slot, so one
 * MULTI or script covers both). Writes go into the caller's MULTI, next to the event they belong to.
 */
export class RedisInFlight {
  private readonly refreshedAt = new Map<string, number>();
  private readonly metaKey: (threadId: string) => string;
  private readonly contentKey: (threadId: string) => string;

  constructor(redis: RedisConnections) {
    this.metaKey = (threadId) => redis.key(`inflight:${hashTag(threadId)}:meta`);
    this.contentKey = (threadId) => redis.key(`inflight:${hashTag(threadId)}:content`);
  }

  /** The reply written whole (meta and content). */
  write(multi: Multi, threadId: string, reply: InFlightReply): void {
    this.refreshedAt.set(threadId, Date.now());
    multi
      .hset(this.metaKey(threadId), 'messageId', reply.messageId, 'seq', String(reply.seq))
      .set(this.contentKey(threadId), reply.content)
      .pexpire(this.metaKey(threadId), INFLIGHT_TTL_MS)
      .pexpire(this.contentKey(threadId), INFLIGHT_TTL_MS);
  }

  /** One delta: its `seq`, and its text appended unless it is reasoning (that arrives whole with the reply). */
  append(multi: Multi, threadId: string, seq: number, delta: string | null): void {
    multi.hset(this.metaKey(threadId), 'seq', String(seq));
    if (delta !== null) {
      multi.append(this.contentKey(threadId), delta);
    }
    const now = Date.now();
    if (now - (this.refreshedAt.get(threadId) ?? 0) >= EXPIRY_REFRESH_MS) {
      this.refreshedAt.set(threadId, now);
      multi.pexpire(this.metaKey(threadId), INFLIGHT_TTL_MS).pexpire(this.contentKey(threadId), INFLIGHT_TTL_MS);
    }
  }

  /** Drops this reply's state (`null`: whatever the thread has, e.g. once it is deleted). */
  drop(multi: Multi, threadId: string, messageId: string | null): void {
    this.refreshedAt.delete(threadId);
    if (messageId === null) {
      multi.del(this.metaKey(threadId), this.contentKey(threadId));
    } else {
      multi.eval(DROP_IF_REPLY, 2, this.metaKey(threadId), this.contentKey(threadId), messageId);
    }
  }

  /** The thread's in-flight reply as stored (throws when Redis does not answer). */
  async read(client: RedisClient, threadId: string): Promise<InFlightReply | null> {
    const result = await client.multi().hgetall(this.metaKey(threadId)).get(this.contentKey(threadId)).exec();
    const meta = result?.[0]?.[1] as Record<string, string> | undefined;
    const content = (result?.[1]?.[1] as string | null) ?? '';
    if (!meta?.messageId) {
      return null;
    }
    return { messageId: meta.messageId, seq: Number(meta.seq ?? 0), content };
  }

  /** Whether a reply of the thread is streaming on some instance (throws when Redis does not answer). */
  async running(client: RedisClient, threadId: string): Promise<boolean> {
    return Boolean(await client.hget(this.metaKey(threadId), 'messageId'));
  }
}
