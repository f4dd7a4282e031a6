/**
 * Bulk-loads a large embedded database for the listing and paging figures: users, threads and messages inserted
 * straight into the server's SQLite file (schema created by the server's own migrations; the server is stopped
 * meanwhile). The FTS triggers fire on every insert, as they would in real use.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';

export interface DatasetShape {
  /** The signed-up user the benchmark lists as: owns every `heavyEvery`-th thread. */
  heavyUserId: string;
  threads: number;
  heavyEvery: number;
  otherUsers: number;
  /** Turns (a user message and its answer) of a normal thread. */
  turns: number;
  /** Every `branchEvery`-th thread has a regenerated last answer (a sibling branch, the newer one active). */
  branchEvery: number;
  /** Threads of the heavy user with `longTurns` turns. */
  longThreads: number;
  longTurns: number;
}

export interface Dataset {
  users: number;
  threads: number;
  messages: number;
  heavyThreads: number;
  /** Normal threads of the heavy user (for message paging). */
  sampleThreadIds: string[];
  longThreadIds: string[];
  loadMs: number;
  dbBytes: number;
}

const WORDS = (() => {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'vo', 'si', 'pe', 'da', 'gu', 'ri', 'zo', 'fe', 'bu', 'ha'];
  const words: string[] = [];
  for (let i = 0; words.length < 400; i++) {
    const n = 2 + (i % 3);
    let w = '';
    let x = i * 7919 + 13;
    for (let j = 0; j < n; j++) {
      w += syllables[x % syllables.length];
      x = Math.floor(x / syllables.length) + j * 31;
    }
    words.push(w);
  }
  return words;
})();

/** Deterministic xorshift PRNG, so every run loads the same data. */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function loadDataset(dbFile: string, shape: DatasetShape): Dataset {
  const started = Date.now();
  const random = rng(42);
  const text = (min: number, max: number) => {
    const n = min + Math.floor(random() * (max - min + 1));
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      parts.push(WORDS[Math.floor(random() * WORDS.length)]);
    }
    return parts.join(' ');
  };
  let idCounter = 0;
  const newId = (atMs: number) =>
    Math.floor(atMs / 1000)
      .toString(16)
      .padStart(8, '0') + (++idCounter).toString(16).padStart(16, '0');

  const db = new Database(dbFile);
  db.pragma('foreign_keys = OFF'); // better-sqlite3 turns them on by default
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.pragma('temp_store = MEMORY');
  const insUser = db.prepare(
    `INSERT INTO users (id, email, email_lower, name, role, disabled, password_hash, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'user', 0, ?, ?, ?)`,
  );
  const insThread = db.prepare(
    `INSERT INTO threads (id, owner_id, title, model, system_prompt, active_leaf_id, created_at, updated_at)
     VALUES (?, ?, ?, 'bench', '', ?, ?, ?)`,
  );
  const insMessage = db.prepare(
    `INSERT INTO messages (id, thread_id, owner_id, parent_id, role, content, model, status, prompt_tokens,
                           completion_tokens, client_message_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'bench', 'complete', ?, ?, NULL, ?, ?)`,
  );

  const now = Date.now();
  const base = now - 365 * 24 * 3600 * 1000;
  const spacing = Math.floor((360 * 24 * 3600 * 1000) / shape.threads);
  const others: string[] = [];
  db.transaction(() => {
    for (let u = 0; u < shape.otherUsers; u++) {
      const id = newId(base);
      insUser.run(id, `other${u}@bench.local`, `other${u}@bench.local`, `Other ${u}`, 'x', base, base);
      others.push(id);
    }
  })();

  const heavyCount = Math.ceil(shape.threads / shape.heavyEvery);
  const longEvery = shape.longThreads > 0 ? Math.floor(heavyCount / shape.longThreads) : Infinity;
  let messages = 0;
  let heavyIndex = 0;
  let otherIndex = 0;
  const sampleThreadIds: string[] = [];
  const longThreadIds: string[] = [];

  const insertThread = (k: number) => {
    const heavy = k % shape.heavyEvery === 0;
    const owner = heavy ? shape.heavyUserId : others[otherIndex++ % others.length];
    const long = heavy && heavyIndex % longEvery === 0 && longThreadIds.length < shape.longThreads;
    if (heavy) {
      heavyIndex += 1;
    }
    const turns = long ? shape.longTurns : shape.turns;
    const branched = !long && k % shape.branchEvery === 3;
    const createdAt = base + k * spacing;
    const threadId = newId(createdAt);
    const title = `Thread ${k}: ${text(2, 5)}`;
    let parent: string | null = null;
    let at = createdAt;
    for (let turn = 0; turn < turns; turn++) {
      const q = newId(at);
      insMessage.run(q, threadId, owner, parent, 'user', text(6, 14), null, null, at, at);
      at += 10_000;
      if (branched && turn === turns - 1) {
        const old = newId(at);
        insMessage.run(old, threadId, owner, q, 'assistant', text(15, 45), 40, 30, at, at);
        messages += 1;
        at += 10_000;
      }
      const a = newId(at);
      insMessage.run(a, threadId, owner, q, 'assistant', text(15, 45), 40, 30, at, at);
      at += 10_000;
      messages += 2;
      parent = a;
    }
    // This connection does not enforce foreign keys, so the thread row can follow its messages with its final
    // active leaf and activity time (one write instead of an insert and an update).
    insThread.run(threadId, owner, title, parent, createdAt, at);
    if (heavy && long) {
      longThreadIds.push(threadId);
    } else if (heavy && sampleThreadIds.length < 2000 && k % 7 === 0) {
      sampleThreadIds.push(threadId);
    }
  };

  const BATCH = 2000;
  for (let start = 0; start < shape.threads; start += BATCH) {
    db.transaction(() => {
      for (let k = start; k < Math.min(shape.threads, start + BATCH); k++) {
        insertThread(k);
      }
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    users: shape.otherUsers + 1,
    threads: shape.threads,
    messages,
    heavyThreads: heavyIndex,
    sampleThreadIds,
    longThreadIds,
    loadMs: Date.now() - started,
    dbBytes: statSync(dbFile).size,
  };
}
