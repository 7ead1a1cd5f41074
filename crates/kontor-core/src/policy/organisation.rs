//! The organisation area: what a person may do beyond one conversation,
//! decided by the permissions their organisation role grants within a
//! scope.
//!
//! A role is a set of [`Permission`]s ([`Permissions::of`]), so a new role
//! or a new permission is one line, and a check asks for a permission, not
//! for a role name. Scopes say where a permission applies; today the
//! organisation as a whole is the only one (departments and locations come
//! with the organisation structure and add their own variants here).

use super::{forbidden, hidden};
use crate::error::DomainResult;
use crate::ids::OrgId;
use crate::model::{Actor, OrgRole};

/// Where an organisation-level action applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole organisation.
    Organisation(OrgId),
}

impl Scope {
    fn org_id(self) -> OrgId {
        match self {
            Scope::Organisation(id) => id,
        }
    }
}

/// One thing an organisation role may allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Permission {
    /// Create groups and channels and add people without the pacing that
    /// keeps ordinary accounts from filling colleagues' lists.
    CreateConversationsFreely,
}

/// A set of [`Permission`]s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Permissions(u32);

impl Permissions {
    /// No permissions at all.
    pub const NONE: Permissions = Permissions(0);

    /// The set holding `permissions`.
    pub const fn with(permissions: &[Permission]) -> Permissions {
        let mut bits = 0;
        let mut i = 0;
        while i < permissions.len() {
            bits |= 1 << permissions[i] as u8;
            i += 1;
        }
        Permissions(bits)
    }

    /// What `role` grants. Administrators run the organisation; they get
    /// no access to conversations they are not in (administration is not
    /// surveillance), which the conversation area decides by membership
    /// alone.
    pub const fn of(role: OrgRole) -> Permissions {
        match role {
            OrgRole::Member => Permissions::NONE,
            OrgRole::Admin => Permissions::with(&[Permission::CreateConversationsFreely]),
        }
    }

    /// Whether the set holds `permission`.
    pub const fn contains(self, permission: Permission) -> bool {
        self.0 & (1 << permission as u8) != 0
    }
}

/// Something a person wants to do across a scope of the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgAction {
    /// Create conversations and add people without pacing.
    CreateConversationsFreely,
}

impl OrgAction {
    fn needs(self) -> Permission {
        match self {
            OrgAction::CreateConversationsFreely => Permission::CreateConversationsFreely,
        }
    }
}

/// Decide whether `actor` may do `action` in `scope`: another
/// organisation's scope is hidden, a missing permission is forbidden.
pub fn authorize_org(actor: &Actor, scope: Scope, action: OrgAction) -> DomainResult<()> {
    if scope.org_id() != actor.org_id {
        return Err(hidden("organisation"));
    }
    if Permissions::of(actor.org_role).contains(action.needs()) {
        Ok(())
    } else {
        Err(forbidden("your role does not allow this"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DomainError;
    use crate::ids::UserId;

    fn actor(org_role: OrgRole) -> Actor {
        Actor {
            user_id: UserId(1),
            org_id: OrgId(1),
            org_role,
        }
    }

    #[test]
    fn roles_grant_permission_sets() {
        assert_eq!(Permissions::of(OrgRole::Member), Permissions::NONE);
        assert!(Permissions::of(OrgRole::Admin).contains(Permission::CreateConversationsFreely));
        assert!(!Permissions::NONE.contains(Permission::CreateConversationsFreely));
    }

    #[test]
    fn another_organisation_is_hidden_and_a_missing_permission_forbidden() {
        let here = Scope::Organisation(OrgId(1));
        let free = OrgAction::CreateConversationsFreely;
        assert_eq!(authorize_org(&actor(OrgRole::Admin), here, free), Ok(()));
        assert!(matches!(
            authorize_org(&actor(OrgRole::Member), here, free),
            Err(DomainError::Forbidden(_))
        ));
        assert_eq!(
            authorize_org(&actor(OrgRole::Admin), Scope::Organisation(OrgId(2)), free),
            Err(DomainError::NotFound("organisation"))
        );
    }
}
