-- Fewer B-tree inserts per message (measured on the write path; see
-- BENCHMARKS.md).
--
-- History and unread counts read through messages_timeline
-- (conversation_id, thread_root_id, id); the plain (conversation_id, id)
-- index was a fourth index entry for every message.
DROP INDEX messages_conversation;

-- Message events have no user audience, and SQLite indexes NULLs: a
-- partial index skips an entry for each of them. Resume looks up
-- `audience_user_id = ?`, which implies the index's condition.
DROP INDEX events_user;
CREATE INDEX events_user ON events(audience_user_id, seq) WHERE audience_user_id IS NOT NULL;
