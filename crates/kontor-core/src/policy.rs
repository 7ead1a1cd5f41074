//! Authorization: the one place that decides who may do what.
//!
//! Every read and write of a conversation passes through [`authorize`] with
//! the facts storage loaded in the same transaction as the change, so a
//! decision can never be based on stale membership.
//!
//! Invariant: a caller who may not see a conversation always gets
//! [`DomainError::NotFound`], never `Forbidden`, so the API does not reveal
//! that a private conversation exists.

use crate::error::{DomainError, DomainResult};
use crate::ids::UserId;
use crate::model::{Actor, ConversationFacts, ConversationKind, MemberRole};

/// Something an actor wants to do in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See the conversation, its members and its history.
    Read,
    /// Become a member without being invited.
    Join,
    /// Leave the conversation.
    Leave,
    /// Post a message or a thread reply.
    Post,
    /// Add or remove a reaction.
    React,
    /// Move one's own read position; send typing notifications.
    Participate,
    /// Edit a message written by `author`.
    EditMessage {
        /// Who wrote the message.
        author: UserId,
    },
    /// Delete a message written by `author`.
    DeleteMessage {
        /// Who wrote the message.
        author: UserId,
    },
    /// Add members, or remove a member whose role is `target_role`.
    ManageMembers {
        /// The role of the member being removed, if any.
        target_role: Option<MemberRole>,
    },
    /// Change a member's role.
    ChangeRoles,
    /// Rename, change topic or announcement mode.
    UpdateSettings,
}

fn not_found() -> DomainError {
    DomainError::NotFound("conversation")
}

fn forbidden(msg: &str) -> DomainError {
    DomainError::Forbidden(msg.to_owned())
}

/// Decide whether `actor`, whose membership in the conversation is
/// `membership` (`None` when not a member), may perform `action`.
pub fn authorize(
    actor: &Actor,
    conv: &ConversationFacts,
    membership: Option<MemberRole>,
    action: Action,
) -> DomainResult<()> {
    if conv.org_id != actor.org_id {
        return Err(not_found());
    }
    let publicly_visible = conv.kind == ConversationKind::Channel && conv.is_public;
    let Some(role) = membership else {
        return match action {
            Action::Read | Action::Join if publicly_visible => Ok(()),
            _ if publicly_visible => Err(forbidden("join the channel first")),
            _ => Err(not_found()),
        };
    };
    match action {
        Action::Read | Action::React | Action::Participate => Ok(()),
        Action::Join => Ok(()),
        Action::Leave => match conv.kind {
            ConversationKind::Direct => Err(forbidden("a direct conversation cannot be left")),
            _ => Ok(()),
        },
        Action::Post => {
            if conv.kind == ConversationKind::Channel && conv.announcement && !role.is_moderator() {
                Err(forbidden(
                    "only owners and moderators may post in this announcement channel",
                ))
            } else {
                Ok(())
            }
        }
        Action::EditMessage { author } => {
            if author == actor.user_id {
                Ok(())
            } else {
                Err(forbidden("only the author may edit a message"))
            }
        }
        Action::DeleteMessage { author } => {
            let moderates = conv.kind != ConversationKind::Direct && role.is_moderator();
            if author == actor.user_id || moderates {
                Ok(())
            } else {
                Err(forbidden(
                    "only the author or a moderator may delete a message",
                ))
            }
        }
        Action::ManageMembers { target_role } => {
            let allowed = match conv.kind {
                ConversationKind::Direct => {
                    return Err(forbidden("a direct conversation has fixed members"));
                }
                ConversationKind::Group => role == MemberRole::Owner,
                ConversationKind::Channel => role.is_moderator(),
            };
            if !allowed {
                return Err(forbidden("you may not manage the members here"));
            }
            if target_role == Some(MemberRole::Owner) && role != MemberRole::Owner {
                return Err(forbidden("only an owner may remove an owner"));
            }
            Ok(())
        }
        Action::ChangeRoles => match (conv.kind, role) {
            (ConversationKind::Direct, _) => Err(forbidden("a direct conversation has no roles")),
            (_, MemberRole::Owner) => Ok(()),
            _ => Err(forbidden("only an owner may change roles")),
        },
        Action::UpdateSettings => match (conv.kind, role) {
            (ConversationKind::Direct, _) => {
                Err(forbidden("a direct conversation has no settings"))
            }
            (ConversationKind::Group, MemberRole::Owner) => Ok(()),
            (ConversationKind::Channel, r) if r.is_moderator() => Ok(()),
            _ => Err(forbidden("you may not change this conversation")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;
    use crate::model::OrgRole;

    const ME: UserId = UserId(1);
    const OTHER: UserId = UserId(2);

    fn actor() -> Actor {
        Actor {
            user_id: ME,
            org_id: OrgId(1),
            org_role: OrgRole::Member,
        }
    }

    fn conv(kind: ConversationKind, is_public: bool, announcement: bool) -> ConversationFacts {
        ConversationFacts {
            org_id: OrgId(1),
            kind,
            is_public,
            announcement,
        }
    }

    /// One row per case: (kind, public, announcement, my role, action, expected).
    /// `expected` is "ok", "not_found" or "forbidden".
    #[test]
    fn decision_table() {
        use Action::*;
        use ConversationKind::*;
        use MemberRole::*;
        type Case = (
            ConversationKind,
            bool,
            bool,
            Option<MemberRole>,
            Action,
            &'static str,
        );
        let cases: &[Case] = &[
            (Group, false, false, None, Read, "not_found"),
            (Group, false, false, None, Post, "not_found"),
            (Group, false, false, None, Join, "not_found"),
            (Direct, false, false, None, Read, "not_found"),
            (Channel, false, false, None, Read, "not_found"),
            (Channel, false, false, None, Join, "not_found"),
            (Channel, true, false, None, Read, "ok"),
            (Channel, true, false, None, Join, "ok"),
            (Channel, true, false, None, Post, "forbidden"),
            (Channel, true, false, Some(Member), Post, "ok"),
            (Channel, true, true, Some(Member), Post, "forbidden"),
            (Channel, true, true, Some(Member), React, "ok"),
            (Channel, true, true, Some(Moderator), Post, "ok"),
            (Channel, true, true, Some(Owner), Post, "ok"),
            (Group, false, true, Some(Member), Post, "ok"),
            (Direct, false, false, Some(Member), Leave, "forbidden"),
            (Group, false, false, Some(Member), Leave, "ok"),
            (
                Group,
                false,
                false,
                Some(Member),
                EditMessage { author: ME },
                "ok",
            ),
            (
                Group,
                false,
                false,
                Some(Owner),
                EditMessage { author: OTHER },
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Member),
                DeleteMessage { author: OTHER },
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Moderator),
                DeleteMessage { author: OTHER },
                "ok",
            ),
            (
                Direct,
                false,
                false,
                Some(Owner),
                DeleteMessage { author: OTHER },
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Member),
                ManageMembers { target_role: None },
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Moderator),
                ManageMembers { target_role: None },
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Owner),
                ManageMembers {
                    target_role: Some(Owner),
                },
                "ok",
            ),
            (
                Channel,
                true,
                false,
                Some(Moderator),
                ManageMembers {
                    target_role: Some(Member),
                },
                "ok",
            ),
            (
                Channel,
                true,
                false,
                Some(Moderator),
                ManageMembers {
                    target_role: Some(Owner),
                },
                "forbidden",
            ),
            (
                Direct,
                false,
                false,
                Some(Owner),
                ManageMembers { target_role: None },
                "forbidden",
            ),
            (
                Channel,
                true,
                false,
                Some(Moderator),
                ChangeRoles,
                "forbidden",
            ),
            (Channel, true, false, Some(Owner), ChangeRoles, "ok"),
            (
                Group,
                false,
                false,
                Some(Member),
                UpdateSettings,
                "forbidden",
            ),
            (Channel, false, false, Some(Moderator), UpdateSettings, "ok"),
        ];
        for (i, (kind, public, announcement, role, action, expected)) in cases.iter().enumerate() {
            let got = match authorize(
                &actor(),
                &conv(*kind, *public, *announcement),
                *role,
                *action,
            ) {
                Ok(()) => "ok",
                Err(DomainError::NotFound(_)) => "not_found",
                Err(DomainError::Forbidden(_)) => "forbidden",
                Err(e) => panic!("case {i}: unexpected error {e:?}"),
            };
            assert_eq!(got, *expected, "case {i}: {kind:?} {role:?} {action:?}");
        }
    }

    #[test]
    fn other_organisation_is_invisible_even_to_members() {
        let mut c = conv(ConversationKind::Channel, true, false);
        c.org_id = OrgId(2);
        assert_eq!(
            authorize(&actor(), &c, Some(MemberRole::Owner), Action::Read),
            Err(DomainError::NotFound("conversation"))
        );
    }
}
