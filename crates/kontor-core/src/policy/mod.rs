//! Authorization: the one place that decides who may do what.
//!
//! The policy grows by area, one module and one `authorize_*` each, instead
//! of one match over every action in the product:
//! - [`conversation`]: what a person may do in one conversation
//!   ([`authorize`]) and what the API reports of it ([`capabilities`]).
//! - [`organisation`]: what a person may do across a [`Scope`] of the
//!   organisation ([`authorize_org`]), from the permission set their
//!   organisation role grants ([`Permissions::of`]).
//!
//! Invariant, in every area: a caller who may not see a thing gets
//! [`DomainError::NotFound`] ("hidden"), never `Forbidden`, so the API does
//! not reveal that it exists. `Forbidden` is only for things the caller can
//! see but may not change.

pub mod conversation;
pub mod organisation;

pub use conversation::{Action, ConversationCapabilities, authorize, capabilities};
pub use organisation::{OrgAction, Permission, Permissions, Scope, authorize_org};

use crate::error::DomainError;

/// The answer for something the caller may not know exists.
fn hidden(what: &'static str) -> DomainError {
    DomainError::NotFound(what)
}

/// The answer for something the caller sees but may not do.
fn forbidden(msg: &str) -> DomainError {
    DomainError::Forbidden(msg.to_owned())
}
