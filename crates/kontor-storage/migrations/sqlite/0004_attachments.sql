-- Uploaded files. The content lives in the blob store under object_key
-- (a server-chosen random name); this row is everything else. An upload
-- belongs to a conversation from the start (only its members may read it
-- once attached; only the uploader before) and to a message once a send
-- attaches it. Deleting the message deletes the rows (and the service the
-- blobs).
CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
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
CREATE INDEX attachments_message ON attachments(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attachments_uploader ON attachments(uploader_id);
CREATE INDEX attachments_org ON attachments(org_id);
