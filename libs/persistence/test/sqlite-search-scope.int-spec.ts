import { ownerScope } from '../src/ports/owner-scope';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Db, openSqlite, ownerSearch } from '../src/sqlite/sqlite-database';
import { SqliteMessageRepository } from '../src/sqlite/sqlite-message.repository';
import { SqliteThreadRepository } from '../src/sqlite/sqlite-thread.repository';
import { SqliteUserRepository } from '../src/sqlite/sqlite-user.repository';

describe('SQLite search scope', () => {
  let db: Db;
  beforeAll(() => {
    db = openSqlite(join(mkdtempSync(join(tmpdir(), 'confab-search-')), 'confab.db'));
  });
  afterAll(() => {
    db.close();
  });

  it("should match only the owner's rows inside the index, not every user's rows filtered afterwards", async () => {
    const users = new SqliteUserRepository(db);
    const threads = new SqliteThreadRepository(db);
    const messages = new SqliteMessageRepository(db);
    const alice = await users.create({ email: 'alice@example.com', name: 'A', passwordHash: 'h' });
    const bob = await users.create({ email: 'bob@example.com', name: 'B', passwordHash: 'h' });
    const mine = await threads.create(ownerScope(alice.id), { title: 'Needle work', model: 'm', systemPrompt: '' });
    const base = { parentId: null, role: 'user' as const, model: 'm', status: 'complete' as const };
    await messages.create(ownerScope(alice.id), { ...base, threadId: mine.id, content: 'a needle in a haystack' });
    for (let i = 0; i < 20; i++) {
      const theirs = await threads.create(ownerScope(bob.id), { title: `Needles ${i}`, model: 'm', systemPrompt: '' });
      for (let j = 0; j < 10; j++) {
        await messages.create(ownerScope(bob.id), { ...base, threadId: theirs.id, content: `needle number ${j}` });
      }
    }

    const found = await threads.list(ownerScope(alice.id), { limit: 10, q: 'NEEDLE' });
    expect(found.items.map((t) => t.id)).toEqual([mine.id]);

    // What the index itself hands out for Alice's search: her rows only (before: all 221 rows with the word).
    const search = ownerSearch(alice.id, 'NEEDLE')!;
    const count = (table: string, match: string) =>
      (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table} MATCH ?`).get(match) as { n: number }).n;
    expect(count('messages_fts', search.messages)).toBe(1);
    expect(count('threads_fts', search.titles)).toBe(1);
    expect(count('messages_fts', '"needle"*')).toBe(201);
    // Query syntax in the words or the id is never an operator.
    expect(ownerSearch('x" OR owner_id : "y', 'a')!.messages).toBe(
      'owner_id : "x"" OR owner_id : ""y" AND content : ("a"*)',
    );
    expect(count('messages_fts', ownerSearch(alice.id, '" OR * NEAR(')!.messages)).toBe(0);
    expect(ownerSearch(alice.id, '" * (')).toBeNull();
  });
});
