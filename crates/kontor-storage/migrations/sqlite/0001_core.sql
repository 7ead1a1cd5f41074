-- Core messenger schema. Times are milliseconds since the Unix epoch (UTC).
-- Booleans are 0/1 integers. Keep statements portable where possible: a
-- PostgreSQL schema is to mirror this one table for table.

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    username      TEXT NOT NULL UNIQUE,
    email         TEXT UNIQUE,
    display_name  TEXT NOT NULL,
    org_role      TEXT NOT NULL CHECK (org_role IN ('member', 'admin')),
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id, display_name);

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash    BLOB NOT NULL UNIQUE,
    device_name   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE conversations (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    kind             TEXT NOT NULL CHECK (kind IN ('direct', 'group', 'channel')),
    name             TEXT,
    topic            TEXT NOT NULL DEFAULT '',
    is_public        INTEGER NOT NULL DEFAULT 0,
    announcement     INTEGER NOT NULL DEFAULT 0,
    -- "<smaller user id>:<larger user id>" for direct conversations, so each
    -- pair has at most one.
    direct_key       TEXT UNIQUE,
    created_by       INTEGER NOT NULL REFERENCES users(id),
    created_at       INTEGER NOT NULL,
    last_message_id  INTEGER,
    last_activity_at INTEGER NOT NULL,
    member_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_public ON conversations(org_id, is_public, kind);

CREATE TABLE members (
    conversation_id      INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id              INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role                 TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'owner')),
    joined_at            INTEGER NOT NULL,
    -- Position of the event that added the member: events before it are not
    -- theirs to receive on resume.
    joined_seq           INTEGER NOT NULL,
    last_read_message_id INTEGER,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members(user_id, conversation_id);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    sender_id        INTEGER NOT NULL REFERENCES users(id),
    txn_id           TEXT NOT NULL,
    thread_root_id   INTEGER REFERENCES messages(id),
    -- NULL once deleted: the content is gone, the tombstone keeps threads intact.
    body             TEXT,
    mentions_channel INTEGER NOT NULL DEFAULT 0,
    reply_count      INTEGER NOT NULL DEFAULT 0,
    last_reply_at    INTEGER,
    created_at       INTEGER NOT NULL,
    edited_at        INTEGER,
    deleted_at       INTEGER,
    UNIQUE (sender_id, txn_id)
);
CREATE INDEX messages_timeline ON messages(conversation_id, thread_root_id, id);
CREATE INDEX messages_thread ON messages(thread_root_id, id) WHERE thread_root_id IS NOT NULL;
CREATE INDEX messages_conversation ON messages(conversation_id, id);

CREATE TABLE mentions (
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX mentions_user ON mentions(user_id, message_id);

CREATE TABLE reactions (
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    emoji       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- The event stream. One row per change, whatever the audience size.
CREATE TABLE events (
    seq                      INTEGER PRIMARY KEY,
    kind                     TEXT NOT NULL,
    audience_conversation_id INTEGER,
    audience_user_id         INTEGER,
    -- The message whose content the payload carries, so edits and deletes
    -- can scrub old text from the log.
    content_message_id       INTEGER,
    payload                  BLOB NOT NULL,
    created_at               INTEGER NOT NULL
);
CREATE INDEX events_conversation ON events(audience_conversation_id, seq);
CREATE INDEX events_user ON events(audience_user_id, seq);
CREATE INDEX events_content ON events(content_message_id) WHERE content_message_id IS NOT NULL;
