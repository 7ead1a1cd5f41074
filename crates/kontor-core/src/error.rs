//! The domain error: what went wrong in terms a person understands.
//!
//! Storage and the server map their own failures into or out of this type
//! exactly once; the HTTP layer turns it into a status code and a stable
//! machine-readable code.

use std::fmt;

/// Result alias for domain operations.
pub type DomainResult<T> = Result<T, DomainError>;

/// A rule was broken or a thing was not there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainError {
    /// Input failed validation; `field` names the offending field so a
    /// client can point at it.
    Invalid {
        /// The field (JSON key or CLI argument) that was wrong.
        field: &'static str,
        /// A sentence for a person.
        message: String,
    },
    /// The thing does not exist, or the caller may not know that it does.
    /// Private conversations answer this to non-members on purpose.
    NotFound(&'static str),
    /// The caller knows the thing exists but may not do this to it.
    Forbidden(String),
    /// The request conflicts with the current state (duplicate name, a
    /// direct conversation with oneself, ...).
    Conflict(String),
    /// A documented limit was reached.
    LimitExceeded(String),
}

impl DomainError {
    /// Shorthand for a validation failure.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DomainError::Invalid { field, message } => write!(f, "{field}: {message}"),
            DomainError::NotFound(what) => write!(f, "{what} not found"),
            DomainError::Forbidden(m)
            | DomainError::Conflict(m)
            | DomainError::LimitExceeded(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DomainError {}
