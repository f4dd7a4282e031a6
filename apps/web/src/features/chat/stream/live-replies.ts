/** A reply being generated right now, as far as it has got. */
export interface LiveReply {
  messageId: string;
  content: string;
  /** The seq of the last delta applied (0 before the first). */
  seq: number;
  /** Thinking text streamed apart from the answer (`kind: 'reasoning'` deltas); it shares the seq order. */
  reasoning?: string;
}

export interface ReplyError {
  messageId: string;
  code: string;
  message: string;
}

export interface ThreadLive {
  reply: LiveReply | null;
  errors: Record<string, ReplyError>;
}

const EMPTY: ThreadLive = { reply: null, errors: {} };

function appendDelta(reply: LiveReply, seq: number, delta: string, kind?: 'reasoning'): LiveReply {
  return kind === 'reasoning'
    ? { ...reply, reasoning: (reply.reasoning ?? '') + delta, seq }
    : { ...reply, content: reply.content + delta, seq };
}

/**
 * One live-stream store per thread, fed by socket events. Deltas are applied strictly in `seq` order (a repeat is
 * ignored, a gap asks for a snapshot), so the text shown never duplicates or loses a piece. Subscribers are told
 * at most once per frame, so a burst of deltas costs one render.
 */
class LiveReplies {
  private readonly states = new Map<string, ThreadLive>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly dirty = new Set<string>();
  private scheduled = false;

  get = (threadId: string): ThreadLive => this.states.get(threadId) ?? EMPTY;

  subscribe(threadId: string, fn: () => void): () => void {
    const set = this.listeners.get(threadId) ?? new Set();
    set.add(fn);
    this.listeners.set(threadId, set);
    return () => set.delete(fn);
  }

  start(threadId: string, messageId: string): void {
    const current = this.get(threadId).reply;
    if (current?.messageId === messageId) {
      return;
    }
    this.put(threadId, { reply: { messageId, content: '', seq: 0 } });
  }

  /** false when the delta does not follow the last one applied: the caller asks for a snapshot. */
  delta(threadId: string, messageId: string, seq: number, delta: string, kind?: 'reasoning'): boolean {
    const reply = this.get(threadId).reply;
    if (!reply || reply.messageId !== messageId) {
      if (seq !== 1) {
        return false;
      }
      const first = { messageId, content: '', seq: 0 };
      this.put(threadId, { reply: appendDelta(first, seq, delta, kind) });
      return true;
    }
    if (seq <= reply.seq) {
      return true; // already applied (a snapshot covered it)
    }
    if (seq !== reply.seq + 1) {
      return false;
    }
    this.put(threadId, { reply: appendDelta(reply, seq, delta, kind) }, true);
    return true;
  }

  /** The join ack's view of the running reply: taken unless what is shown is already further along. */
  snapshot(threadId: string, streaming: LiveReply | null): void {
    const reply = this.get(threadId).reply;
    if (!streaming) {
      if (reply) {
        this.put(threadId, { reply: null });
      }
      return;
    }
    if (reply?.messageId === streaming.messageId && reply.seq >= streaming.seq) {
      return;
    }
    this.put(threadId, { reply: { ...streaming } });
  }

  end(threadId: string, messageId: string, error?: ReplyError): void {
    const state = this.get(threadId);
    const errors = error ? { ...state.errors, [messageId]: error } : state.errors;
    this.put(threadId, { reply: state.reply?.messageId === messageId ? null : state.reply, errors });
  }

  private put(threadId: string, patch: Partial<ThreadLive>, batched = false): void {
    this.states.set(threadId, { ...this.get(threadId), ...patch });
    this.dirty.add(threadId);
    if (!batched) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      // A frame, or 50 ms in a background tab where frames do not run.
      let done = false;
      const run = () => {
        if (!done) {
          done = true;
          this.flush();
        }
      };
      requestAnimationFrame(run);
      setTimeout(run, 50);
    }
  }

  private flush(): void {
    this.scheduled = false;
    const ids = [...this.dirty];
    this.dirty.clear();
    for (const id of ids) {
      this.listeners.get(id)?.forEach((fn) => fn());
    }
  }
}

export const liveReplies = new LiveReplies();
