import { hashTag, type RedisConnections } from '@app/common';

/**
 * How thread events travel between instances (REDIS_THREAD_CHANNELS):
 * - `sharded`: a channel per thread (`thread:{<id>}:events`), joined by an instance only while something there
 *   follows the thread, and one per thread for stop requests (`thread:{<id>}:stop`), joined by the instance running
 *   its generation: an instance receives the events its sockets and streams need, whatever the instance count.
 * - `single`: every event on one channel that every instance receives (the design before; bench:scale's baseline).
 */
export type ThreadChannels = 'sharded' | 'single';

/** The Redis channels of thread events, under the deployment's key prefix; a thread's share its hash tag. */
export class ThreadChannelNames {
  /** `single` only: the channel of every event, and of every stop request. */
  readonly all: string;
  readonly allStops: string;

  constructor(private readonly redis: RedisConnections) {
    this.all = redis.key('thread-events');
    this.allStops = redis.key('generation-stop');
  }

  events(threadId: string): string {
    return this.redis.key(`thread:${hashTag(threadId)}:events`);
  }

  stops(threadId: string): string {
    return this.redis.key(`thread:${hashTag(threadId)}:stop`);
  }

  /** A user's channel: their threads' new titles and settings, for every socket of theirs. */
  owner(userId: string): string {
    return this.redis.key(`user:${hashTag(userId)}:threads`);
  }
}
