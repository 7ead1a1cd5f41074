//! Every table and column Kontor stores, on both engines, with what it holds
//! for data protection: the personal-data category of each column, the area
//! that owns the table and how long its rows are kept.
//!
//! This list is the one source for everything that must know all tables:
//! `kontor admin migrate` copies the tables it names (see [`crate::migrate`]),
//! the integration test `registry` checks that both schemas have exactly
//! these tables and columns, and the privacy toolkit's data inventory,
//! export and erasure will read it. A migration that adds a column without
//! a line here fails that test.

/// The part of the code that owns a table: the only one that writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// Organisations, people and their sessions.
    Accounts,
    /// Conversations and who is in them.
    Conversations,
    /// Messages, mentions and reactions.
    Messages,
    /// Files attached to messages.
    Attachments,
    /// The event log clients catch up from.
    Events,
    /// The full-text index over message text.
    Search,
    /// Which migrations have run.
    Schema,
}

/// What a column says about a person (GDPR Art. 4(1)); drives the data
/// inventory, what an export includes and what erasure must clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Personal {
    /// Nothing about a person: ids of things, counts, flags of things.
    No,
    /// Points at a person (a user id): personal only together with the
    /// row it points to.
    Reference,
    /// Who someone is: names, login names, e-mail addresses.
    Identity,
    /// Secrets that let someone in, stored only as hashes.
    Credential,
    /// What people wrote, named or uploaded.
    Content,
    /// When someone did what: timestamps, read positions, devices.
    Activity,
    /// Choices and roles a person has.
    Setting,
}

/// How long a table's rows are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// As long as the organisation exists.
    Organisation,
    /// Until the person's account is removed.
    Account,
    /// Until logout, revocation or the account's removal.
    Session,
    /// As long as the conversation exists.
    Conversation,
    /// Until the message is deleted (then its text is cleared at once).
    Message,
    /// `storage.event_retention_days`, then removed by housekeeping.
    EventLog,
    /// One row for the life of the database.
    Singleton,
}

/// Which engines have a table or column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engines {
    /// SQLite and PostgreSQL alike: copied by `kontor admin migrate`.
    Both,
    /// Only the embedded SQLite database.
    Sqlite,
    /// Only PostgreSQL.
    Postgres,
}

impl Engines {
    /// Whether the SQLite schema has it.
    pub fn sqlite(self) -> bool {
        matches!(self, Engines::Both | Engines::Sqlite)
    }

    /// Whether the PostgreSQL schema has it.
    pub fn postgres(self) -> bool {
        matches!(self, Engines::Both | Engines::Postgres)
    }
}

/// How a column is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT).
    Int,
    /// SQLite 0/1 INTEGER, PostgreSQL BOOLEAN.
    Bool,
    /// UTF-8 text.
    Text,
    /// Bytes (SQLite BLOB, PostgreSQL BYTEA).
    Bytes,
    /// A list of integers (PostgreSQL BIGINT[]).
    IntList,
    /// Indexed words: an FTS5 column on SQLite, a TSVECTOR on PostgreSQL.
    Words,
}

/// One column.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Its name, the same on every engine that has it.
    pub name: &'static str,
    /// How it is stored.
    pub kind: Kind,
    /// What it says about a person.
    pub personal: Personal,
    /// Which engines have it.
    pub engines: Engines,
}

/// One table.
#[derive(Debug)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Who owns it.
    pub area: Area,
    /// How long rows stay.
    pub retention: Retention,
    /// Which engines have it.
    pub engines: Engines,
    /// Its columns, in a fixed order (the copy's and the checksum's).
    pub columns: &'static [Column],
    /// How `kontor admin migrate` copies it: `None` for tables it does not
    /// copy (the search index is rebuilt, the event counter is set).
    pub copy: Option<Copy>,
}

/// How a table is copied from SQLite to PostgreSQL.
#[derive(Clone, Copy, Debug)]
pub struct Copy {
    /// ORDER BY, the same on both sides (text ordered bytewise).
    pub order: &'static str,
    /// The identity column to move past the copied ids, if any.
    pub identity: Option<&'static str>,
}

impl Table {
    /// The columns the engines share, which the copy moves.
    pub fn shared_columns(&self) -> impl Iterator<Item = &'static Column> {
        self.columns.iter().filter(|c| c.engines == Engines::Both)
    }
}

const fn col(name: &'static str, kind: Kind, personal: Personal) -> Column {
    Column {
        name,
        kind,
        personal,
        engines: Engines::Both,
    }
}

const fn pg_col(name: &'static str, kind: Kind, personal: Personal) -> Column {
    Column {
        name,
        kind,
        personal,
        engines: Engines::Postgres,
    }
}

const fn sqlite_col(name: &'static str, kind: Kind, personal: Personal) -> Column {
    Column {
        name,
        kind,
        personal,
        engines: Engines::Sqlite,
    }
}

const fn copied(order: &'static str, identity: Option<&'static str>) -> Option<Copy> {
    Some(Copy { order, identity })
}

use Kind::*;
use Personal::*;

/// Every table, parents before children (the order the copy needs).
pub const TABLES: &[Table] = &[
    Table {
        name: "kontor_schema",
        area: Area::Schema,
        retention: Retention::Singleton,
        engines: Engines::Postgres,
        columns: &[pg_col("version", Int, No)],
        copy: None,
    },
    Table {
        name: "orgs",
        area: Area::Accounts,
        retention: Retention::Organisation,
        engines: Engines::Both,
        columns: &[
            col("id", Int, No),
            col("name", Text, No),
            col("created_at", Int, No),
        ],
        copy: copied("id", Some("id")),
    },
    Table {
        name: "users",
        area: Area::Accounts,
        retention: Retention::Account,
        engines: Engines::Both,
        columns: &[
            col("id", Int, Reference),
            col("org_id", Int, No),
            col("username", Text, Identity),
            col("email", Text, Identity),
            col("display_name", Text, Identity),
            col("org_role", Text, Setting),
            col("password_hash", Text, Credential),
            col("created_at", Int, Activity),
            col("share_presence", Bool, Setting),
        ],
        copy: copied("id", Some("id")),
    },
    Table {
        name: "sessions",
        area: Area::Accounts,
        retention: Retention::Session,
        engines: Engines::Both,
        columns: &[
            col("id", Int, No),
            col("user_id", Int, Reference),
            col("token_hash", Bytes, Credential),
            col("device_name", Text, Activity),
            col("created_at", Int, Activity),
            col("last_seen_at", Int, Activity),
        ],
        copy: copied("id", Some("id")),
    },
    Table {
        name: "conversations",
        area: Area::Conversations,
        retention: Retention::Conversation,
        engines: Engines::Both,
        columns: &[
            col("id", Int, No),
            col("org_id", Int, No),
            col("kind", Text, No),
            col("name", Text, Content),
            col("topic", Text, Content),
            col("is_public", Bool, No),
            col("announcement", Bool, No),
            col("direct_key", Text, Reference),
            col("created_by", Int, Reference),
            col("created_at", Int, Activity),
            col("last_message_id", Int, No),
            col("last_activity_at", Int, Activity),
            col("member_count", Int, No),
        ],
        copy: copied("id", Some("id")),
    },
    Table {
        name: "members",
        area: Area::Conversations,
        retention: Retention::Conversation,
        engines: Engines::Both,
        columns: &[
            col("conversation_id", Int, No),
            col("user_id", Int, Reference),
            col("role", Text, Setting),
            col("joined_at", Int, Activity),
            col("joined_seq", Int, No),
            col("last_read_message_id", Int, Activity),
        ],
        copy: copied("conversation_id, user_id", None),
    },
    Table {
        name: "messages",
        area: Area::Messages,
        retention: Retention::Message,
        engines: Engines::Both,
        columns: &[
            col("id", Int, No),
            col("conversation_id", Int, No),
            col("sender_id", Int, Reference),
            col("txn_id", Text, No),
            col("thread_root_id", Int, No),
            col("body", Text, Content),
            col("mentions_channel", Bool, No),
            col("reply_count", Int, No),
            col("last_reply_at", Int, Activity),
            col("created_at", Int, Activity),
            col("edited_at", Int, Activity),
            col("deleted_at", Int, Activity),
        ],
        copy: copied("id", Some("id")),
    },
    Table {
        name: "mentions",
        area: Area::Messages,
        retention: Retention::Message,
        engines: Engines::Both,
        columns: &[col("message_id", Int, No), col("user_id", Int, Reference)],
        copy: copied("message_id, user_id", None),
    },
    Table {
        name: "reactions",
        area: Area::Messages,
        retention: Retention::Message,
        engines: Engines::Both,
        columns: &[
            col("message_id", Int, No),
            col("user_id", Int, Reference),
            col("emoji", Text, Content),
            col("created_at", Int, Activity),
        ],
        copy: copied("message_id, emoji, user_id", None),
    },
    Table {
        name: "event_head",
        area: Area::Events,
        retention: Retention::Singleton,
        engines: Engines::Postgres,
        columns: &[pg_col("singleton", Bool, No), pg_col("seq", Int, No)],
        copy: None,
    },
    Table {
        name: "events",
        area: Area::Events,
        retention: Retention::EventLog,
        engines: Engines::Both,
        columns: &[
            col("seq", Int, No),
            col("kind", Text, No),
            col("audience_conversation_id", Int, No),
            col("audience_user_id", Int, Reference),
            col("content_message_id", Int, No),
            col("payload", Bytes, Content),
            col("created_at", Int, Activity),
            pg_col("membership_conversation_id", Int, No),
            pg_col("membership_added", IntList, Reference),
            pg_col("membership_removed", Int, Reference),
            pg_col("revoked_session_id", Int, No),
            pg_col("presence_sharing", Bool, Setting),
        ],
        copy: copied("seq", None),
    },
    Table {
        name: "message_search",
        area: Area::Search,
        retention: Retention::Message,
        engines: Engines::Both,
        columns: &[
            pg_col("message_id", Int, No),
            pg_col("conversation_id", Int, No),
            col("fwd", Words, Content),
            col("rev", Words, Content),
            sqlite_col("conv", Words, No),
        ],
        copy: None,
    },
    Table {
        name: "attachments",
        area: Area::Attachments,
        retention: Retention::Message,
        engines: Engines::Both,
        columns: &[
            col("id", Int, No),
            col("org_id", Int, No),
            col("conversation_id", Int, No),
            col("message_id", Int, No),
            col("uploader_id", Int, Reference),
            col("name", Text, Content),
            col("content_type", Text, No),
            col("size", Int, No),
            col("width", Int, No),
            col("height", Int, No),
            col("object_key", Text, No),
            col("thumbnail_key", Text, No),
            col("created_at", Int, Activity),
        ],
        copy: copied("id", Some("id")),
    },
];

/// The table named `name`, if Kontor has one.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_copied_tables_keep_their_order_columns() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        for t in TABLES {
            let mut cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
            cols.sort_unstable();
            cols.dedup();
            assert_eq!(cols.len(), t.columns.len(), "{}", t.name);
            let Some(copy) = t.copy else { continue };
            assert_eq!(t.engines, Engines::Both, "{} is copied", t.name);
            for key in copy.order.split(", ").chain(copy.identity) {
                assert!(
                    t.shared_columns().any(|c| c.name == key),
                    "{}: {key} is not a shared column",
                    t.name
                );
            }
        }
    }
}
