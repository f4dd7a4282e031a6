import type { RedisClient } from './redis.module';

type Multi = ReturnType<RedisClient['multi']>;

/** Told once the MULTI holding a caller's commands has been answered: null, or why it failed. */
export type BatchSettled = (err: Error | null) => void;

/**
 * A MULTI is sent as soon as it holds this many callers' commands: the first event of a long tick does not wait for
 * the rest of it (its listeners here are served first, each taking a while: a big batch delays the first events'
 * way to other instances), and almost all of the saving (one MULTI and EXEC per event) is had by then.
 */
export const MAX_BATCH = 16;

interface Group {
  multi: Multi;
  settled: BatchSettled[];
  size: number;
}

/**
 * The commands queued during one synchronous stretch of work (a tick), sent to Redis together once it is over
 * (`process.nextTick`): one MULTI for all of them, or in a cluster one per hash tag (a transaction must stay in one
 * slot). With many replies streaming, the deltas of one event-loop turn then cost one round of MULTI/EXEC, not one
 * each (or one per MAX_BATCH events). Commands keep their order within a group (and across MULTIs: each is written
 * in turn on the same connection). A caller about to read what it wrote calls `flush` first.
 */
export class RedisTickBatch {
  private groups = new Map<string, Group>();
  private scheduled = false;

  constructor(
    private readonly client: RedisClient,
    /** REDIS_CLUSTER: one MULTI per hash tag instead of one for the whole tick. */
    private readonly perTag: boolean,
  ) {}

  /**
   * This tick's MULTI for commands whose keys and sharded channels all carry the hash tag `tag`; `settled` is
   * called once it has been answered (in the order the callers asked).
   */
  multi(tag: string, settled?: BatchSettled): Multi {
    const key = this.perTag ? tag : '';
    let group = this.groups.get(key);
    if (!group || group.size >= MAX_BATCH) {
      if (group) {
        this.send(group);
      }
      group = { multi: this.client.multi(), settled: [], size: 0 };
      this.groups.set(key, group);
    }
    group.size += 1;
    if (settled) {
      group.settled.push(settled);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
    return group.multi;
  }

  /** Sends what is queued now (at the end of the tick, or earlier for a read that must come after it). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.groups.size === 0) {
      return;
    }
    const groups = this.groups;
    this.groups = new Map();
    groups.forEach((group) => this.send(group));
  };

  private send({ multi, settled }: Group): void {
    multi.exec().then(
      () => settled.forEach((settle) => settle(null)),
      (err: Error) => settled.forEach((settle) => settle(err)),
    );
  }
}
