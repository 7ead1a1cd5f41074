//! Newtype identifiers.
//!
//! Every identifier is a positive 64-bit integer assigned by storage. The
//! wrappers exist so the compiler rejects swapped arguments, which are
//! otherwise an easy mistake in functions taking several ids.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw value, for storage and wire encoding.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An organisation: the tenant every user and conversation belongs to.
    OrgId
);
id_type!(
    /// A person with an account in an organisation.
    UserId
);
id_type!(
    /// A direct conversation, group or channel.
    ConversationId
);
id_type!(
    /// One message; ids grow with time within the whole installation.
    MessageId
);
id_type!(
    /// A login session (one device or browser).
    SessionId
);
id_type!(
    /// An uploaded file, attached to a message once the message is sent.
    AttachmentId
);

/// A position in the event stream. Positions only grow, so a client that
/// remembers the last one it saw can ask for everything after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventSeq(pub i64);

impl EventSeq {
    /// The raw value, for storage and wire encoding.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for EventSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
