import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { searchTerms } from '../search/search-terms';
import { MIGRATIONS } from './migrations';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the embedded database: WAL so readers never block the writer, a busy timeout so
 * several server processes can share the file, foreign keys on, and the pending migrations applied.
 */
export function openSqlite(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    keepPrivate(file);
  }
  const db = new Database(file, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Owner-only, like the JWT secret next to it: the database holds every conversation and the password hashes. */
const PRIVATE_FILE = 0o600;

/**
 * Creates the database file 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database file's
 * mode) and tightens a database, WAL or SHM file an older version left readable by others.
 */
function keepPrivate(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE));
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(path).mode & 0o777) !== PRIVATE_FILE) {
        chmodSync(path, PRIVATE_FILE);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw err;
      }
    }
  }
}

function migrate(db: Db): void {
  // IMMEDIATE takes the write lock first, so two processes starting together apply each migration once.
  const step = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= MIGRATIONS.length) {
      return false;
    }
    db.exec(MIGRATIONS[version]);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (step.immediate()) {
    // next migration
  }
}

/** True for SQLite's unique-constraint violations. */
export function isUniqueViolation(err: unknown): boolean {
  return (
    (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * Turns free text into an FTS5 query: every word must match as a prefix, case- and accent-insensitive.
 * Quoting each word neutralises FTS5 syntax (`OR`, `NEAR`, `*`, `"`), so user input is never an operator.
 */
export function ftsQuery(text: string): string | null {
  const words = searchTerms(text);
  if (words.length === 0) {
    return null;
  }
  return words.map((w) => `"${w}"*`).join(' ');
}

/**
 * The FTS5 queries of one owner's search: the owner's id (an indexed column of both FTS tables) and every word
 * (as `ftsQuery`) in the searched column, so the index yields only that owner's rows. Null when there is no word.
 */
export function ownerSearch(ownerId: string, text: string): { titles: string; messages: string } | null {
  const words = ftsQuery(text);
  if (!words) {
    return null;
  }
  const owner = `owner_id : "${ownerId.replace(/"/g, '""')}"`;
  return { titles: `${owner} AND title : (${words})`, messages: `${owner} AND content : (${words})` };
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/** Prepares each SQL text once per connection and reuses the statement. */
export function prepared(db: Db, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) {
    cache = new Map();
    statementCache.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}
