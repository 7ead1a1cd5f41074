//! Decisions both storage backends make the same way, in one place: the
//! backends differ in how they read and write, never in what they decide.
//! Pure functions over already-loaded facts; no SQL.

use kontor_core::DomainError;
use kontor_core::ids::{ConversationId, UserId};
use kontor_core::limits::{
    MAX_CONVERSATIONS_PER_USER, MAX_DISTINCT_REACTIONS, MAX_MEMBERS_PER_REQUEST,
};
use kontor_core::model::{Actor, MemberRole, Message};

use crate::{SearchPage, SendOutcome, StoreError, StoreResult};

/// The `LIKE` pattern for a people search: lower-cased, with `\`, `%` and
/// `_` escaped (the queries say `ESCAPE '\'`), matching anywhere.
pub fn like_pattern(search: &str) -> String {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Refuse adding more than [`MAX_MEMBERS_PER_REQUEST`] people at once.
pub fn check_members_per_request(count: usize) -> StoreResult<()> {
    if count > MAX_MEMBERS_PER_REQUEST {
        return Err(DomainError::LimitExceeded(format!(
            "at most {MAX_MEMBERS_PER_REQUEST} members can be added at once"
        ))
        .into());
    }
    Ok(())
}

/// Refuse a new membership for `user`, who belongs to `memberships`
/// conversations already, at [`MAX_CONVERSATIONS_PER_USER`]. Backends
/// count after appending the membership event, whose lock serialises all
/// membership writes, so the limit holds exactly.
pub fn check_conversation_limit(user: UserId, memberships: u64) -> StoreResult<()> {
    if memberships >= MAX_CONVERSATIONS_PER_USER as u64 {
        return Err(DomainError::LimitExceeded(format!(
            "user {user} already belongs to {MAX_CONVERSATIONS_PER_USER} conversations, the most one person may"
        ))
        .into());
    }
    Ok(())
}

/// Refuse that a member with `role` leaves or is removed when that would
/// leave `member_count` people without an owner: nobody could manage the
/// conversation any more. The last person may always go.
pub fn check_owner_may_go(role: MemberRole, member_count: u64, owners: u64) -> StoreResult<()> {
    if role == MemberRole::Owner && member_count > 1 && owners == 1 {
        return Err(DomainError::Conflict(
            "the last owner cannot leave; make someone else an owner first".into(),
        )
        .into());
    }
    Ok(())
}

/// Whether changing a member's role from `current` to `new` changes
/// anything; refuses demoting the only owner.
pub fn role_changes(current: MemberRole, new: MemberRole, owners: u64) -> StoreResult<bool> {
    if current == new {
        return Ok(false);
    }
    if current == MemberRole::Owner && owners == 1 {
        return Err(DomainError::Conflict("a conversation needs at least one owner".into()).into());
    }
    Ok(true)
}

/// The people a new conversation gets besides its creator: sorted, without
/// repeats or the creator, and not too many at once.
pub fn other_members(actor: &Actor, member_ids: &[UserId]) -> StoreResult<Vec<UserId>> {
    let mut others: Vec<UserId> = member_ids
        .iter()
        .copied()
        .filter(|u| *u != actor.user_id)
        .collect();
    others.sort();
    others.dedup();
    check_members_per_request(others.len())?;
    Ok(others)
}

/// The key that makes each pair's direct conversation unique
/// ("<smaller id>:<larger id>"); `others` must be exactly the one peer.
pub fn direct_pair_key(actor: &Actor, others: &[UserId]) -> StoreResult<String> {
    let [peer] = others else {
        return Err(DomainError::invalid(
            "user_ids",
            "a direct conversation needs exactly one other person",
        )
        .into());
    };
    let (a, b) = (actor.user_id.min(*peer), actor.user_id.max(*peer));
    Ok(format!("{a}:{b}"))
}

/// Whether adding (or removing) `user`'s `emoji` reaction changes anything;
/// refuses reactions to deleted messages and a new kind of reaction beyond
/// [`MAX_DISTINCT_REACTIONS`].
pub fn reaction_changes(
    message: &Message,
    user: UserId,
    emoji: &str,
    add: bool,
) -> StoreResult<bool> {
    if message.deleted_at.is_some() {
        return Err(DomainError::Conflict("the message was deleted".into()).into());
    }
    let exists = message
        .reactions
        .iter()
        .any(|r| r.emoji == emoji && r.user_ids.contains(&user));
    if exists == add {
        return Ok(false);
    }
    if add {
        let new_emoji = !message.reactions.iter().any(|r| r.emoji == emoji);
        if new_emoji && message.reactions.len() >= MAX_DISTINCT_REACTIONS {
            return Err(DomainError::LimitExceeded(format!(
                "a message may carry at most {MAX_DISTINCT_REACTIONS} different reactions"
            ))
            .into());
        }
    }
    Ok(true)
}

/// What a send answers given the sender's earlier message under the same
/// txn_id: `None` when there is none (a fresh send goes ahead), the earlier
/// message again (an idempotent retry), or a conflict when that message is
/// in another conversation.
///
/// `may_post` is whether the sender may post in `conversation` now, and it
/// is decided first: a retry gets exactly what a fresh send would get
/// (`not_found` for a conversation the sender no longer sees, `forbidden`
/// where they see it but may not post). So re-sending an old txn_id never
/// shows a removed member the message's current reactions and replies, and
/// the conflict answers only for a conversation the sender may post in.
pub fn replay_send<T>(
    may_post: StoreResult<T>,
    earlier: Option<Message>,
    conversation: ConversationId,
) -> StoreResult<Option<SendOutcome>> {
    may_post?;
    let Some(message) = earlier else {
        return Ok(None);
    };
    if message.conversation_id != conversation {
        return Err(DomainError::Conflict(
            "this txn_id was already used for a message in another conversation".into(),
        )
        .into());
    }
    Ok(Some(SendOutcome {
        message,
        created: false,
    }))
}

/// The answer to a search within one conversation whose caller has `role`
/// there: `None` for a member (search), the empty page for anyone else,
/// before any index is read. Search covers only the caller's own
/// conversations, so the query would find nothing there anyway; running it
/// would still let its time tell how often a word occurs in a conversation
/// the caller cannot read. A conversation that does not exist answers the
/// same.
pub fn search_elsewhere(role: Option<MemberRole>) -> Option<SearchPage> {
    match role {
        Some(_) => None,
        None => Some(SearchPage {
            hits: Vec::new(),
            has_more: false,
        }),
    }
}

/// Whose storage quota an upload is checked against.
#[derive(Clone, Copy)]
pub enum QuotaOf {
    /// The uploader's own.
    Person,
    /// The whole organisation's.
    Organisation,
}

fn mib(bytes: u64) -> u64 {
    bytes / (1024 * 1024)
}

/// Refuse an upload of `size` bytes when `used` bytes are already stored
/// against `quota`.
pub fn check_quota(whose: QuotaOf, used: u64, size: u64, quota: u64) -> StoreResult<()> {
    if used.saturating_add(size) <= quota {
        return Ok(());
    }
    let message = match whose {
        QuotaOf::Person => format!(
            "your storage quota of {} MiB is used up ({} MiB stored); delete old files first",
            mib(quota),
            mib(used)
        ),
        QuotaOf::Organisation => format!(
            "the organisation's storage quota of {} MiB is used up",
            mib(quota)
        ),
    };
    Err(DomainError::LimitExceeded(message).into())
}

/// Refuse to run on a database whose schema is newer than this binary's
/// migrations (a downgrade would corrupt it).
pub fn check_schema_version(done: usize, known: usize) -> StoreResult<()> {
    if done > known {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {done}, newer than this binary knows ({known}); \
             refusing to start"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use kontor_core::ids::MessageId;
    use kontor_core::model::Timestamp;

    use super::*;

    fn message_in(conversation: i64) -> Message {
        Message {
            id: MessageId(7),
            conversation_id: ConversationId(conversation),
            sender_id: UserId(1),
            txn_id: "t".into(),
            thread_root_id: None,
            text: Some("x".into()),
            mentions: Vec::new(),
            mentions_channel: false,
            reactions: Vec::new(),
            reply_count: 3,
            last_reply_at: None,
            created_at: Timestamp(0),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        }
    }

    fn code(r: StoreResult<Option<SendOutcome>>) -> &'static str {
        match r {
            Ok(None) => "fresh",
            Ok(Some(_)) => "retry",
            Err(StoreError::Domain(DomainError::NotFound(_))) => "not_found",
            Err(StoreError::Domain(DomainError::Forbidden(_))) => "forbidden",
            Err(StoreError::Domain(DomainError::Conflict(_))) => "conflict",
            Err(_) => "other",
        }
    }

    #[test]
    fn a_retry_answers_like_a_fresh_send_first() {
        let here = ConversationId(5);
        let ok: StoreResult<()> = Ok(());
        let hidden = || -> StoreResult<()> { Err(DomainError::NotFound("conversation").into()) };
        let closed = || -> StoreResult<()> { Err(DomainError::Forbidden("no".into()).into()) };
        assert_eq!(code(replay_send(ok, None, here)), "fresh");
        assert_eq!(
            code(replay_send(Ok(()), Some(message_in(5)), here)),
            "retry"
        );
        assert_eq!(
            code(replay_send(Ok(()), Some(message_in(6)), here)),
            "conflict"
        );
        // Permission first: neither the message nor the conflict shows.
        assert_eq!(
            code(replay_send(hidden(), Some(message_in(5)), here)),
            "not_found"
        );
        assert_eq!(
            code(replay_send(hidden(), Some(message_in(6)), here)),
            "not_found"
        );
        assert_eq!(
            code(replay_send(closed(), Some(message_in(5)), here)),
            "forbidden"
        );
        assert_eq!(
            code(replay_send(closed(), Some(message_in(6)), here)),
            "forbidden"
        );
    }
}
