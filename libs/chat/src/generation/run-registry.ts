import { AccountEvents } from '@app/auth';
import { DrainState } from '@app/common';
import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ThreadEventBus } from '../events/thread-event-bus';
import type { GenerationRun } from './generation-run';

/** A stateless completion (/v1 without a thread) running here: its owner, and how to stop it. */
interface TrackedCompletion {
  ownerId: string;
  abort: AbortController;
}

/**
 * What this process is generating: the runs by thread (one per thread: the lease), the stateless completions, the
 * work that follows each run until it is stored, and the sends admitted but not running yet. It stops them when
 * asked from anywhere (a remote stop, the thread deleted, the owner disabled or deleted) and drains them at shutdown.
 */
@Injectable()
export class RunRegistry implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RunRegistry.name);
  private readonly runs = new Map<string, GenerationRun>();
  private readonly completions = new Set<TrackedCompletion>();
  /** Each run with what follows it (usage, the lease), until it is all done. */
  private readonly executions = new Set<Promise<void>>();
  /** Sends and regenerations admitted before a drain began and not yet running (see `drain`). */
  private admitted = 0;
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: ThreadEventBus,
    private readonly accountEvents: AccountEvents,
    private readonly drainState: DrainState,
  ) {}

  onApplicationBootstrap(): void {
    const offStop = this.bus.onRemoteStop((threadId) => this.runs.get(threadId)?.stop());
    // A thread deleted (by its owner, or with its owner's account) stops its reply wherever it runs.
    const offDeleted = this.bus.subscribe((event) => {
      if (event.type === 'thread:deleted') {
        this.runs.get(event.threadId)?.stop();
      }
    });
    // A user deleted or disabled (every session revoked) stops spending tokens at once, on every instance.
    const offAccount = this.accountEvents.on((event) => {
      if (event.type === 'revoked' && event.sessionIds === 'all') {
        [...this.runs.values()].filter((run) => run.ownerId === event.userId).forEach((run) => run.stop());
        [...this.completions].filter((c) => c.ownerId === event.userId).forEach((c) => c.abort.abort());
      }
    });
    this.unsubscribe = () => {
      offStop();
      offDeleted();
      offAccount();
    };
  }

  /** Refuses new work while draining (`unavailable`: the client retries on another instance). */
  assertAccepting(): void {
    this.drainState.assertAccepting();
  }

  /** Runs `start` unless draining (`unavailable`: the client retries on another instance), counted meanwhile. */
  async admit<T>(start: () => Promise<T>): Promise<T> {
    this.drainState.assertAccepting();
    this.admitted += 1;
    try {
      return await start();
    } finally {
      this.admitted -= 1;
    }
  }

  /** The run generating the thread's reply here, if any. */
  get(threadId: string): GenerationRun | undefined {
    return this.runs.get(threadId);
  }

  /** Registers a run and the work that follows it (`execution`, which ends with `forget`). */
  add(run: GenerationRun, execution: () => Promise<void>): void {
    this.runs.set(run.threadId, run);
    // Started at once, so the upstream request goes out now. The caller still subscribes before anything of the run
    // is published: a run publishes what its stream had received before it started in the turn's shared pass, and
    // everything else from the I/O callbacks that bring it, both later turns of the event loop
    // (GenerationRun.scheduleEmit).
    const work = execution();
    this.executions.add(work);
    void work.finally(() => this.executions.delete(work));
  }

  forget(run: GenerationRun): void {
    if (this.runs.get(run.threadId) === run) {
      this.runs.delete(run.threadId);
    }
  }

  /** Stops the thread's run if it is here; false when it is not. */
  stop(threadId: string): boolean {
    const run = this.runs.get(threadId);
    run?.stop();
    return run !== undefined;
  }

  /** Tracks a stateless completion of `ownerId`: its signal aborts on a stop; `done` when it has ended. */
  completion(ownerId: string): { signal: AbortSignal; done: () => void } {
    const tracked = { ownerId, abort: new AbortController() };
    this.completions.add(tracked);
    return { signal: tracked.abort.signal, done: () => this.completions.delete(tracked) };
  }

  /**
   * Stops the replies running here and waits until they are stored and their end published. Before, not on,
   * application shutdown: the database and Redis close in `onApplicationShutdown`, in an order Nest does not promise.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.stopAll();
  }

  /**
   * The drain after SIGTERM (new sends are already refused by `DrainState`): lets the replies running here finish
   * for up to `graceMs`, then stops the rest, which stores each with its partial text, and waits until all is stored.
   */
  async drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.runs.size > 0 || this.executions.size > 0 || this.admitted > 0 || this.completions.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        break;
      }
      // A send admitted just before the drain may not have created its run yet, and a stateless completion (/v1)
      // has no promise to wait on: look again shortly.
      const poll = this.admitted > 0 || this.completions.size > 0;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...[...this.runs.values()].map((run) => run.done), ...this.executions]),
        new Promise((resolve) => (timer = setTimeout(resolve, poll ? Math.min(left, 50) : left))),
      ]);
      clearTimeout(timer);
    }
    if (this.runs.size + this.completions.size > 0) {
      this.logger.warn(
        `shutdown grace over: stopping ${this.runs.size} replies (stored as they are) and ${this.completions.size} completions`,
      );
    }
    await this.stopAll();
  }

  private async stopAll(): Promise<void> {
    const runs = [...this.runs.values()];
    runs.forEach((run) => run.stop());
    this.completions.forEach((completion) => completion.abort.abort());
    await Promise.all(runs.map((run) => run.done));
    await Promise.all([...this.executions]);
  }
}
