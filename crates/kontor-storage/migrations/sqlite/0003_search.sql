-- Full-text search over messages. Terms come from `search::Analyzer`
-- (German and English stems in `fwd`, reversed German stems in `rev` for
-- compound endings), computed in Rust so every backend indexes alike.
-- Contentless: the text lives only in `messages`; deleting a row removes
-- its terms, so edited-away and deleted text leaves no trace here.
-- Existing messages are indexed by the server right after this migration.
CREATE VIRTUAL TABLE message_search USING fts5(
    fwd, rev,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
