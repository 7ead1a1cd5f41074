-- Ids of deleted rows must never come back. Without AUTOINCREMENT, SQLite
-- gives a new row the id of the newest deleted one, so a withdrawn upload's
-- or an ended session's id could name a different upload or session later
-- (a retried DELETE /attachments/N would withdraw the next upload). These
-- are the two tables whose rows are deleted while their ids are still in
-- clients' hands; AUTOINCREMENT needs the tables rebuilt. Nothing refers
-- to either table by foreign key. Existing ids are kept; the copy sets
-- each table's sqlite_sequence to its highest id.

CREATE TABLE attachments_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id      INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    uploader_id     INTEGER NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    width           INTEGER,
    height          INTEGER,
    object_key      TEXT NOT NULL UNIQUE,
    thumbnail_key   TEXT,
    created_at      INTEGER NOT NULL
);
INSERT INTO attachments_new (id, org_id, conversation_id, message_id, uploader_id, name,
    content_type, size, width, height, object_key, thumbnail_key, created_at)
SELECT id, org_id, conversation_id, message_id, uploader_id, name,
    content_type, size, width, height, object_key, thumbnail_key, created_at
FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_message ON attachments(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_uploader ON attachments(uploader_id);
CREATE INDEX attachments_org ON attachments(org_id);
CREATE INDEX attachments_unsent ON attachments(created_at) WHERE message_id IS NULL;

CREATE TABLE sessions_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE,
    device_name   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
INSERT INTO sessions_new (id, user_id, token_hash, device_name, created_at, last_seen_at)
SELECT id, user_id, token_hash, device_name, created_at, last_seen_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user ON sessions(user_id);
