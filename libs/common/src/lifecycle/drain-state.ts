import { Global, Injectable, Module } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/**
 * Whether this instance is shutting down (SIGTERM received). While it drains, readiness answers 503 so the load
 * balancer stops routing here, and no new generation starts: callers get `unavailable` and retry elsewhere.
 */
@Injectable()
export class DrainState {
  private drainingSince: number | null = null;
  private readonly listeners = new Set<() => void>();

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  /** Starts draining (once); listeners run synchronously. */
  begin(): void {
    if (this.drainingSince !== null) {
      return;
    }
    this.drainingSince = Date.now();
    for (const listener of this.listeners) {
      listener();
    }
  }

  onDrain(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Throws `unavailable` while draining: the one check before any new work starts. */
  assertAccepting(): void {
    if (this.draining) {
      throw new AppError('unavailable', 'This server is shutting down; retry the request', { retryAfterSeconds: 1 });
    }
  }
}

@Global()
@Module({ providers: [DrainState], exports: [DrainState] })
export class DrainModule {}
