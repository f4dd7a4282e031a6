import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The embedded database's file name under DATA_DIR. */
export const SQLITE_FILE = 'confab.db';

export interface BackupReport {
  destination: string;
  bytes: number;
  /** Rows per table in the copy, as read back from it. */
  rows: Record<string, number>;
}

/**
 * A consistent copy of a live SQLite database with SQLite's online backup API, safe while servers write to it:
 * all pages are copied in one step under one read transaction (WAL lets writers go on meanwhile), so the copy is
 * exactly the database as of one commit and is never restarted by a concurrent write. The copy is written aside,
 * switched to a single file (rollback journal), checked (`PRAGMA integrity_check`, every table readable), and only then moved into place.
 */
export async function backupSqlite(source: string, destination: string): Promise<BackupReport> {
  if (!existsSync(source)) {
    throw new Error(`no database at ${source}`);
  }
  if (existsSync(destination)) {
    throw new Error(`${destination} already exists`);
  }
  mkdirSync(dirname(destination), { recursive: true });
  const partial = `${destination}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(source, { fileMustExist: true, timeout: 5000 });
  try {
    // Every remaining page in the next step: one consistent snapshot, which a write by another process cannot
    // restart (with small steps, a steady writer would restart the copy over and over). 0 would mean no page at all.
    await db.backup(partial, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  try {
    const rows = verify(partial);
    renameSync(partial, destination);
    return { destination, bytes: statSync(destination).size, rows };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

function verify(file: string): Record<string, number> {
  const copy = new Database(file, { fileMustExist: true });
  try {
    // One self-contained file (no -wal/-shm beside it): what gets copied off the machine is the whole backup.
    copy.pragma('journal_mode = DELETE');
    const integrity = copy.pragma('integrity_check', { simple: true });
    if (integrity !== 'ok') {
      throw new Error(`the copy failed its integrity check: ${String(integrity)}`);
    }
    const tables = copy
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((t) => [
        t,
        copy
          .prepare(`SELECT COUNT(*) FROM "${t.replace(/"/g, '""')}"`)
          .pluck()
          .get() as number,
      ]),
    );
  } finally {
    copy.close();
  }
}
