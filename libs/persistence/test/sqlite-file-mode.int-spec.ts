import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite } from '../src/sqlite/sqlite-database';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('SQLite file modes', () => {
  let umask: number;
  beforeAll(() => {
    // The usual umask of a service: what made the files 0644 before.
    umask = process.umask(0o022);
  });
  afterAll(() => {
    process.umask(umask);
  });

  it('should create the database and its WAL and SHM files readable by the owner only (0600)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'confab-mode-')), 'data', 'confab.db');
    const db = openSqlite(file);
    try {
      db.prepare("INSERT INTO audit_entries (id, action, meta, created_at) VALUES ('a', 'test', '{}', 0)").run();
      expect(existsSync(`${file}-wal`)).toBe(true);
      expect(existsSync(`${file}-shm`)).toBe(true);
      expect([file, `${file}-wal`, `${file}-shm`].map(modeOf)).toEqual([0o600, 0o600, 0o600]);
    } finally {
      db.close();
    }
  });

  it('should tighten a database that an older version left readable by others', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'confab-mode-')), 'confab.db');
    openSqlite(file).close();
    chmodSync(file, 0o644);
    const db = openSqlite(file);
    try {
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}-wal`)).toBe(0o600);
    } finally {
      db.close();
    }
  });
});
