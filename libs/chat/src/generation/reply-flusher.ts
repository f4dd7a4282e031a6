import { MessageRepository, type ReplyProgress } from '@app/persistence';
import { Injectable, Logger } from '@nestjs/common';

/** The growing text of every reply is written to the database at most this often (never per token). */
export const FLUSH_INTERVAL_MS = 250;
/**
 * Replies written per transaction: a flush of more is split, with a turn of the event loop between the parts, so
 * that it never holds the loop for long (500 streaming replies in one SQLite transaction took 15-22 ms, during
 * which no token was relayed).
 */
export const FLUSH_CHUNK = 64;

/** A reply being generated, as the flusher sees it. */
export interface FlushableReply {
  /** Its text so far when it changed since the last call (and marks it flushed), else null. */
  progress(): ReplyProgress | null;
}

/**
 * Writes the growing text of every reply generating in this process in one batch every FLUSH_INTERVAL_MS
 * (`MessageRepository.saveProgress`: one SQLite transaction, one MongoDB bulk write, per FLUSH_CHUNK replies),
 * instead of one statement per reply on a timer of its own: with 100 replies streaming, 8 commits a second instead
 * of 400. A reply with text not written yet says so (`dirty`); one that ends leaves (`settle`) before its final
 * write, which thereby comes last.
 */
@Injectable()
export class ReplyFlusher {
  private readonly logger = new Logger(ReplyFlusher.name);
  private readonly dirtyReplies = new Set<FlushableReply>();
  private timer: NodeJS.Timeout | null = null;
  /** The batches being written, in order, and how many. */
  private writing: Promise<void> = Promise.resolve();
  private pending = 0;

  constructor(private readonly messages: MessageRepository) {}

  /** The reply has text not written yet: it is asked for it (`progress`) at the next flush. */
  dirty(reply: FlushableReply): void {
    this.dirtyReplies.add(reply);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** The reply is ending: no more flushes of it; resolves once the batches under way (that may hold it) are written. */
  async settle(reply: FlushableReply): Promise<void> {
    this.dirtyReplies.delete(reply);
    if (this.dirtyReplies.size === 0 && this.timer) {
      // Nothing left to write: the next reply starts a full interval of its own, not the rest of this one's.
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending > 0) {
      await this.writing;
    }
  }

  private flush(): void {
    this.timer = null;
    const items: ReplyProgress[] = [];
    for (const reply of this.dirtyReplies) {
      const progress = reply.progress();
      if (progress) {
        items.push(progress);
      }
    }
    this.dirtyReplies.clear();
    if (items.length === 0) {
      return;
    }
    this.pending += 1;
    this.writing = this.writing
      .then(() => this.save(items))
      .catch(() => undefined) // save logs each part's failure; nothing may reject the chain settle() waits on
      .finally(() => (this.pending -= 1));
  }

  /** Writes `items` FLUSH_CHUNK at a time, a turn of the event loop apart; a part that fails leaves the others. */
  private async save(items: ReplyProgress[]): Promise<void> {
    for (let start = 0; start < items.length; start += FLUSH_CHUNK) {
      if (start > 0) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      try {
        await this.messages.saveProgress(items.slice(start, start + FLUSH_CHUNK));
      } catch (err) {
        this.logger.warn({ err }, 'partial replies flush failed');
      }
    }
  }
}
