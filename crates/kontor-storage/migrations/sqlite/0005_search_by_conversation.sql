-- The search index also records each message's conversation as a token
-- (`conv`, e.g. "c42"), so a query can intersect a word's document list
-- with the caller's conversations inside FTS5 before anything is scored.
-- The permission join in the query stays the guarantee; this only makes
-- common words cheap. The index is rebuilt from the messages when a
-- database is migrated past this version.
DROP TABLE message_search;
CREATE VIRTUAL TABLE message_search USING fts5(
    fwd, rev, conv,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
