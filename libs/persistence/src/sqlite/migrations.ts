/**
 * Versioned schema migrations, applied in order at start inside one transaction each; the schema version lives
 * in `PRAGMA user_version`. Never edit a released migration: add the next one.
 */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_lower TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
    disabled INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX users_created ON users (created_at DESC, id DESC);
  CREATE INDEX users_role ON users (role, disabled);

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    user_agent TEXT,
    ip TEXT
  );
  CREATE INDEX sessions_user ON sessions (user_id, revoked_at);

  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

  CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    system_prompt TEXT NOT NULL,
    active_leaf_id TEXT,
    lease_holder TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX threads_owner_activity ON threads (owner_id, updated_at DESC, id DESC);
  CREATE INDEX threads_created ON threads (created_at);

  CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    thread_id TEXT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    parent_id TEXT,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'stopped', 'error')),
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    client_message_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX messages_thread_time ON messages (thread_id, created_at, id);
  CREATE INDEX messages_thread_parent ON messages (thread_id, parent_id);
  CREATE UNIQUE INDEX messages_client_id ON messages (thread_id, client_message_id) WHERE client_message_id IS NOT NULL;
  CREATE INDEX messages_streaming ON messages (updated_at) WHERE status = 'streaming';
  CREATE INDEX messages_created ON messages (created_at);

  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
  END;

  CREATE VIRTUAL TABLE threads_fts USING fts5 (
    title, content = 'threads', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
  );
  CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN
    INSERT INTO threads_fts (rowid, title) VALUES (new.rowid, new.title);
  END;
  CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
  END;
  CREATE TRIGGER threads_fts_update AFTER UPDATE OF title ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO threads_fts (rowid, title) VALUES (new.rowid, new.title);
  END;

  CREATE TABLE audit_entries (
    id TEXT PRIMARY KEY,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_id TEXT,
    ip TEXT,
    meta TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX audit_time ON audit_entries (created_at DESC, id DESC);

  CREATE TABLE token_usage (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL
  );
  CREATE INDEX token_usage_user_at ON token_usage (user_id, at);
  CREATE INDEX token_usage_at ON token_usage (at);
  `,
  // 2: a reply is indexed for search once it stops streaming, not on every 250 ms flush of its growing text
  // (re-indexing the whole text each time made a long reply's cost grow with the square of its length).
  `
  DROP TRIGGER messages_fts_insert;
  DROP TRIGGER messages_fts_delete;
  DROP TRIGGER messages_fts_update;
  INSERT INTO messages_fts (messages_fts, rowid, content)
    SELECT 'delete', seq, content FROM messages WHERE status = 'streaming';
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.seq, new.content);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.seq, old.content);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
      SELECT 'delete', old.seq, old.content WHERE old.status != 'streaming';
    INSERT INTO messages_fts (rowid, content) SELECT new.seq, new.content WHERE new.status != 'streaming';
  END;
  `,
  // 3: the reuse grace of refresh tokens: a spent token remembers its successor (hash, and the token sealed with
  // the spent one) so that parallel refreshes with one token get one answer instead of revoking the session.
  `
  ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT;
  ALTER TABLE refresh_tokens ADD COLUMN successor_sealed TEXT;
  `,
  // 4: personal API keys, found by the SHA-256 digest of their secret (unique index), listed per user.
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER
  );
  CREATE INDEX api_keys_user ON api_keys (user_id, created_at DESC, id DESC);
  `,
  // 5: a thread's reply settings (temperature, reply budget), used when a request names none.
  `
  ALTER TABLE threads ADD COLUMN temperature REAL;
  ALTER TABLE threads ADD COLUMN max_tokens INTEGER;
  `,
  // 6: full-text search scoped to the owner inside the index: both FTS tables get the owner's id as a column and
  // every search matches it together with the words, so other users' rows never come out of the index at all
  // (before, a search matched every user's rows and the owner filter came after).
  `
  DROP TRIGGER messages_fts_insert;
  DROP TRIGGER messages_fts_delete;
  DROP TRIGGER messages_fts_update;
  DROP TABLE messages_fts;
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    owner_id, content, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO messages_fts (rowid, owner_id, content)
    SELECT seq, owner_id, content FROM messages WHERE status != 'streaming';
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
    INSERT INTO messages_fts (rowid, owner_id, content) VALUES (new.seq, new.owner_id, new.content);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, owner_id, content)
      VALUES ('delete', old.seq, old.owner_id, old.content);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, owner_id, content)
      SELECT 'delete', old.seq, old.owner_id, old.content WHERE old.status != 'streaming';
    INSERT INTO messages_fts (rowid, owner_id, content)
      SELECT new.seq, new.owner_id, new.content WHERE new.status != 'streaming';
  END;

  DROP TRIGGER threads_fts_insert;
  DROP TRIGGER threads_fts_delete;
  DROP TRIGGER threads_fts_update;
  DROP TABLE threads_fts;
  CREATE VIRTUAL TABLE threads_fts USING fts5 (
    owner_id, title, content = 'threads', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO threads_fts (rowid, owner_id, title) SELECT rowid, owner_id, title FROM threads;
  CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN
    INSERT INTO threads_fts (rowid, owner_id, title) VALUES (new.rowid, new.owner_id, new.title);
  END;
  CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, owner_id, title) VALUES ('delete', old.rowid, old.owner_id, old.title);
  END;
  CREATE TRIGGER threads_fts_update AFTER UPDATE OF title ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, owner_id, title) VALUES ('delete', old.rowid, old.owner_id, old.title);
    INSERT INTO threads_fts (rowid, owner_id, title) VALUES (new.rowid, new.owner_id, new.title);
  END;
  `,
  // 7: a reply's reasoning ("thinking") text, kept apart from its content (not indexed for search).
  `
  ALTER TABLE messages ADD COLUMN reasoning TEXT;
  `,
  // 8: the admin console filters the audit log by actor or target, and lists users with their last activity.
  `
  CREATE INDEX audit_actor ON audit_entries (actor_id, created_at DESC, id DESC);
  CREATE INDEX audit_target ON audit_entries (target_id, created_at DESC, id DESC);
  CREATE INDEX sessions_user_used ON sessions (user_id, last_used_at);
  `,
  // 9: daily quotas are reserved before a model call and settled with its usage: a reservation is a usage row with
  // no tokens spent yet, counted against the quota until it is settled or expires (a crashed instance's).
  `
  ALTER TABLE token_usage ADD COLUMN reserved_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE token_usage ADD COLUMN reserved_until INTEGER;
  `,
  // 10: search sized for a million messages per user. Both FTS tables get prefix indexes (1 to 4 characters): a
  // search word is a prefix, and without them FTS5 merged the postings of every term starting with it, of every
  // user, on each query, before the owner's rows could be picked. With them a word reads one doclist lazily, newest
  // rowid first, so the repository takes the newest matches and stops (SEARCH_CANDIDATES). Same columns and rowids.
  `
  DROP TRIGGER messages_fts_insert;
  DROP TRIGGER messages_fts_delete;
  DROP TRIGGER messages_fts_update;
  DROP TABLE messages_fts;
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    owner_id, content, content = 'messages', content_rowid = 'seq', prefix = '1 2 3 4',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO messages_fts (rowid, owner_id, content)
    SELECT seq, owner_id, content FROM messages WHERE status != 'streaming';
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
    INSERT INTO messages_fts (rowid, owner_id, content) VALUES (new.seq, new.owner_id, new.content);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, owner_id, content)
      VALUES ('delete', old.seq, old.owner_id, old.content);
  END;
  CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, owner_id, content)
      SELECT 'delete', old.seq, old.owner_id, old.content WHERE old.status != 'streaming';
    INSERT INTO messages_fts (rowid, owner_id, content)
      SELECT new.seq, new.owner_id, new.content WHERE new.status != 'streaming';
  END;

  DROP TRIGGER threads_fts_insert;
  DROP TRIGGER threads_fts_delete;
  DROP TRIGGER threads_fts_update;
  DROP TABLE threads_fts;
  CREATE VIRTUAL TABLE threads_fts USING fts5 (
    owner_id, title, content = 'threads', content_rowid = 'rowid', prefix = '1 2 3 4',
    tokenize = 'unicode61 remove_diacritics 2'
  );
  INSERT INTO threads_fts (rowid, owner_id, title) SELECT rowid, owner_id, title FROM threads;
  CREATE TRIGGER threads_fts_insert AFTER INSERT ON threads BEGIN
    INSERT INTO threads_fts (rowid, owner_id, title) VALUES (new.rowid, new.owner_id, new.title);
  END;
  CREATE TRIGGER threads_fts_delete AFTER DELETE ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, owner_id, title) VALUES ('delete', old.rowid, old.owner_id, old.title);
  END;
  CREATE TRIGGER threads_fts_update AFTER UPDATE OF title ON threads BEGIN
    INSERT INTO threads_fts (threads_fts, rowid, owner_id, title) VALUES ('delete', old.rowid, old.owner_id, old.title);
    INSERT INTO threads_fts (rowid, owner_id, title) VALUES (new.rowid, new.owner_id, new.title);
  END;
  `,
];
