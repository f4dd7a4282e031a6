import { Logger } from '@nestjs/common';

/**
 * One setImmediate per event-loop turn for every reply with text to publish, instead of one per reply: the deltas
 * of all replies of a turn are then published in one synchronous stretch, which the Redis bus sends as one batch
 * (Node runs the ticks queued by each immediate callback before the next one, so separate immediates would make a
 * batch each). A reply queued during the pass goes in the next turn's.
 */
export class EmitTurn {
  private readonly logger = new Logger(EmitTurn.name);
  private queued = new Set<() => void>();
  private immediate: NodeJS.Immediate | null = null;

  /** Runs `emit` in the next pass (once, however often it is queued before that). */
  queue(emit: () => void): void {
    this.queued.add(emit);
    this.immediate ??= setImmediate(this.pass);
  }

  /** Takes `emit` out of the next pass (it ran early). */
  cancel(emit: () => void): void {
    this.queued.delete(emit);
  }

  private readonly pass = (): void => {
    this.immediate = null;
    const queued = this.queued;
    this.queued = new Set();
    for (const emit of queued) {
      try {
        emit();
      } catch (err) {
        // One reply's failure must not hold back the others' text.
        this.logger.error({ err }, 'publishing a delta failed');
      }
    }
  };
}

/** The process's pass: every GenerationRun publishes its pending text in it. */
export const emitTurn = new EmitTurn();
