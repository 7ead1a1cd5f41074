//! The conversation area: what a person may do in one conversation, and
//! the capabilities the API reports so clients never copy these rules.
//!
//! Every read and write of a conversation passes through [`authorize`] with
//! the facts storage loaded in the same transaction as the change, so a
//! decision can never be based on stale membership.

use super::{forbidden, hidden};
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
    /// Rename or change the topic.
    UpdateSettings,
    /// Switch a channel's announcement mode (only owners and moderators
    /// post): an owner's decision, as it silences everyone else.
    ChangeAnnouncementMode,
}

fn not_found() -> DomainError {
    hidden("conversation")
}

/// Whether `role` may remove other people's messages here: moderators do,
/// except in a direct conversation, where nobody moderates the other.
fn moderates_messages(conv: &ConversationFacts, role: MemberRole) -> bool {
    conv.kind != ConversationKind::Direct && role.is_moderator()
}

/// Whether `role` may add and remove members here (owners of groups,
/// moderators of channels; direct conversations have fixed members).
fn manages_members(conv: &ConversationFacts, role: MemberRole) -> DomainResult<bool> {
    Ok(match conv.kind {
        ConversationKind::Direct => {
            return Err(forbidden("a direct conversation has fixed members"));
        }
        ConversationKind::Group => role == MemberRole::Owner,
        ConversationKind::Channel => role.is_moderator(),
    })
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
            if author == actor.user_id || moderates_messages(conv, role) {
                Ok(())
            } else {
                Err(forbidden(
                    "only the author or a moderator may delete a message",
                ))
            }
        }
        Action::ManageMembers { target_role } => {
            if !manages_members(conv, role)? {
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
        Action::ChangeAnnouncementMode => match (conv.kind, role) {
            (ConversationKind::Channel, MemberRole::Owner) => Ok(()),
            (ConversationKind::Channel, _) => {
                Err(forbidden("only an owner may change the announcement mode"))
            }
            _ => Err(DomainError::invalid(
                "announcement",
                "only channels have an announcement mode",
            )),
        },
    }
}

/// What the caller may do in one conversation, as the API reports it: each
/// field is [`authorize`]'s answer for that action, so a client that shows
/// controls by these never disagrees with the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConversationCapabilities {
    /// Post messages and thread replies.
    pub post: bool,
    /// Add and remove reactions.
    pub react: bool,
    /// Join without an invitation (public channels one is not in).
    pub join: bool,
    /// Leave.
    pub leave: bool,
    /// Rename and change the topic.
    pub update_settings: bool,
    /// Switch the announcement mode.
    pub change_announcement_mode: bool,
    /// Add members and remove members who are not owners.
    pub manage_members: bool,
    /// Remove owners.
    pub remove_owners: bool,
    /// Change members' roles.
    pub change_roles: bool,
    /// Delete other people's messages.
    pub delete_any_message: bool,
}

/// The capabilities of `actor`, whose membership is `membership`, in the
/// conversation `conv`. Someone who may not see it can do nothing.
pub fn capabilities(
    actor: &Actor,
    conv: &ConversationFacts,
    membership: Option<MemberRole>,
) -> ConversationCapabilities {
    let may = |action| authorize(actor, conv, membership, action).is_ok();
    let member = membership.is_some();
    ConversationCapabilities {
        post: may(Action::Post),
        react: may(Action::React),
        join: !member && may(Action::Join),
        leave: member && may(Action::Leave),
        update_settings: may(Action::UpdateSettings),
        change_announcement_mode: may(Action::ChangeAnnouncementMode),
        manage_members: may(Action::ManageMembers { target_role: None }),
        remove_owners: may(Action::ManageMembers {
            target_role: Some(MemberRole::Owner),
        }),
        change_roles: may(Action::ChangeRoles),
        delete_any_message: match membership {
            Some(role) if may(Action::Read) => moderates_messages(conv, role),
            _ => false,
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
            (
                Channel,
                true,
                false,
                Some(Owner),
                ChangeAnnouncementMode,
                "ok",
            ),
            (
                Channel,
                true,
                false,
                Some(Moderator),
                ChangeAnnouncementMode,
                "forbidden",
            ),
            (
                Group,
                false,
                false,
                Some(Owner),
                ChangeAnnouncementMode,
                "invalid",
            ),
            (
                Channel,
                false,
                false,
                None,
                ChangeAnnouncementMode,
                "not_found",
            ),
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
                Err(DomainError::Invalid { .. }) => "invalid",
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

    #[test]
    fn capabilities_follow_the_decisions() {
        let channel = conv(ConversationKind::Channel, true, true);
        let member = capabilities(&actor(), &channel, Some(MemberRole::Member));
        assert_eq!(
            member,
            ConversationCapabilities {
                react: true,
                leave: true,
                ..Default::default()
            }
        );
        let moderator = capabilities(&actor(), &channel, Some(MemberRole::Moderator));
        assert!(moderator.post && moderator.manage_members && moderator.delete_any_message);
        assert!(!moderator.remove_owners && !moderator.change_roles);
        assert!(!moderator.change_announcement_mode);
        let owner = capabilities(&actor(), &channel, Some(MemberRole::Owner));
        assert!(owner.change_announcement_mode && owner.remove_owners && owner.change_roles);
        assert!(!owner.join);
        let visitor = capabilities(&actor(), &channel, None);
        assert_eq!(
            visitor,
            ConversationCapabilities {
                join: true,
                ..Default::default()
            }
        );
        let direct = conv(ConversationKind::Direct, false, false);
        let peer = capabilities(&actor(), &direct, Some(MemberRole::Member));
        assert!(peer.post && !peer.leave && !peer.manage_members && !peer.delete_any_message);
        let private = conv(ConversationKind::Group, false, false);
        assert_eq!(
            capabilities(&actor(), &private, None),
            ConversationCapabilities::default()
        );
    }
}
