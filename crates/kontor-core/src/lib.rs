//! Kontor's domain core: the vocabulary and the rules, free of I/O.
//!
//! Layout:
//! - [`ids`]: newtype identifiers, so a user id can never be passed where a
//!   conversation id is expected.
//! - [`model`]: the kinds and roles the rules talk about.
//! - [`limits`]: every size and count limit, with the reason for its value.
//! - [`validate`]: turns untrusted input into checked values.
//! - [`invisible`]: the bidi controls and invisible characters labels refuse.
//! - [`policy`]: the one place that decides who may do what.
//! - [`mention`]: finds `@name` tokens in message source for clients.
//! - [`event`]: persisted changes, their audience and membership effects.
//! - [`error`]: the domain error every other layer maps from.
//!
//! Architecture invariant: this crate depends on nothing but `std`. It knows
//! nothing about SQL, HTTP, async runtimes or serialization formats, so the
//! rules can be read, tested and reused without any of them.

pub mod error;
pub mod event;
pub mod ids;
pub mod invisible;
pub mod limits;
pub mod mention;
pub mod model;
pub mod policy;
pub mod validate;

pub use error::{DomainError, DomainResult};
