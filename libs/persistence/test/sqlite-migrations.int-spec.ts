import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../src/sqlite/migrations';
import { openSqlite } from '../src/sqlite/sqlite-database';

describe('SQLite migrations', () => {
  it('should upgrade a version-1 database with a reply in flight and keep the search index consistent', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'confab-migrate-')), 'confab.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0]);
    old.pragma('user_version = 1');
    old.exec(`
      INSERT INTO users VALUES ('u1', 'a@b.c', 'a@b.c', 'A', 'user', 0, 'h', 0, 0);
      INSERT INTO threads VALUES ('t1', 'u1', 'Title', 'm', '', NULL, NULL, NULL, 0, 0);
      INSERT INTO messages (id, thread_id, owner_id, parent_id, role, content, model, status, created_at, updated_at)
        VALUES ('m1', 't1', 'u1', NULL, 'assistant', 'half written kangaroo', 'm', 'streaming', 0, 0),
               ('m2', 't1', 'u1', NULL, 'user', 'finished echidna', 'm', 'complete', 0, 0);
    `);
    old.close();

    const db = openSqlite(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const search = (word: string) =>
      db
        .prepare('SELECT m.id FROM messages_fts f JOIN messages m ON m.seq = f.rowid WHERE messages_fts MATCH ?')
        .all(word);
    expect(search('kangaroo')).toEqual([]); // in flight: not indexed any more
    expect(search('echidna')).toEqual([{ id: 'm2' }]);
    db.prepare(
      "UPDATE messages SET content = 'half written kangaroo, done', status = 'complete' WHERE id = 'm1'",
    ).run();
    expect(search('kangaroo')).toEqual([{ id: 'm1' }]);
    db.prepare("DELETE FROM messages WHERE id = 'm2'").run();
    expect(() => db.prepare("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')").run()).not.toThrow();
    expect(search('echidna')).toEqual([]);
    db.close();
  });
});
