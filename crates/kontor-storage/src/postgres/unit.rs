//! A write on PostgreSQL: one transaction, the events it appends, and the
//! error mapping that tells a collision worth retrying from a real failure.

use bytes::Bytes;
use kontor_core::event::{Event, MembershipEffect};
use kontor_core::ids::EventSeq;
use kontor_core::model::Timestamp;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::{EventEncoder, StoreError, StoreResult};

/// SQLSTATEs meaning "another transaction got in the way": the unit is run
/// again from the start, and the second run sees what the other committed
/// (the existing message of a repeated transaction id, say).
const RETRYABLE: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "23505", // unique_violation: a check-then-insert raced another
];

/// How often a unit is run before a collision is reported as unavailable.
pub const MAX_ATTEMPTS: u32 = 5;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                if RETRYABLE.contains(&code.as_ref()) {
                    StoreError::Contended(e.to_string())
                } else if code.starts_with("08") || code.starts_with("57") || code == "53300" {
                    // connection exceptions, shutdowns, too many connections
                    StoreError::Unavailable(e.to_string())
                } else {
                    StoreError::Internal(e.to_string())
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// The context a write runs in: its transaction and whether it appended
/// events (the store wakes the event tail after such a commit).
pub(crate) struct Unit<'e> {
    tx: Transaction<'static, Postgres>,
    encoder: &'e dyn EventEncoder,
    pub(super) emitted: bool,
}

impl<'e> Unit<'e> {
    pub(super) fn new(tx: Transaction<'static, Postgres>, encoder: &'e dyn EventEncoder) -> Self {
        Unit {
            tx,
            encoder,
            emitted: false,
        }
    }

    /// The transaction's connection, for queries.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub(super) async fn commit(self) -> StoreResult<bool> {
        let emitted = self.emitted;
        self.tx
            .commit()
            .await
            .map_err(|e| match StoreError::from(e) {
                // The outcome of a failed COMMIT is unknown: the client retries
                // with the same transaction id, which is idempotent.
                StoreError::Internal(m) => StoreError::Unavailable(m),
                other => other,
            })?;
        Ok(emitted)
    }

    /// Append an event to the log. Its position comes from the `event_head`
    /// row, whose lock this transaction then holds until it commits: that
    /// is what makes positions commit-ordered across every node.
    pub async fn emit(&mut self, event: Event, now: Timestamp) -> StoreResult<EventSeq> {
        let seq: i64 = sqlx::query_scalar("UPDATE event_head SET seq = seq + 1 RETURNING seq")
            .fetch_one(&mut *self.tx)
            .await?;
        let seq = EventSeq(seq);
        let frame = self.encoder.encode(seq, &event);
        let audience = event.audience();
        let (m_conv, m_added, m_removed) = match event.membership_effect() {
            Some(MembershipEffect::Added(c, users)) => (
                Some(c.0),
                Some(users.iter().map(|u| u.0).collect::<Vec<i64>>()),
                None,
            ),
            Some(MembershipEffect::Removed(c, u)) => (Some(c.0), None, Some(u.0)),
            None => (None, None, None),
        };
        sqlx::query(
            "INSERT INTO events (seq, kind, audience_conversation_id, audience_user_id, \
             content_message_id, payload, created_at, membership_conversation_id, \
             membership_added, membership_removed, revoked_session_id, presence_sharing) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(seq.0)
        .bind(event.kind())
        .bind(audience.conversation.map(|c| c.0))
        .bind(audience.user.map(|u| u.0))
        .bind(event.content_of().map(|m| m.0))
        .bind(&frame[..])
        .bind(now.0)
        .bind(m_conv)
        .bind(m_added)
        .bind(m_removed)
        .bind(event.revoked_session().map(|s| s.0))
        .bind(event.presence_choice())
        .execute(&mut *self.tx)
        .await?;
        self.emitted = true;
        Ok(seq)
    }

    /// Re-encode a stored event at its original position, e.g. to scrub
    /// old text from the log after an edit or delete.
    pub async fn rewrite_event(&mut self, seq: EventSeq, event: &Event) -> StoreResult<()> {
        let frame: Bytes = self.encoder.encode(seq, event);
        sqlx::query("UPDATE events SET payload = $1, kind = $2 WHERE seq = $3")
            .bind(&frame[..])
            .bind(event.kind())
            .bind(seq.0)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
