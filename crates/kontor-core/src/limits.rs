//! Every limit Kontor enforces, in one place, each with its reason.
//!
//! The server documents these in its OpenAPI description and README; a
//! change here is a change to the public contract.

/// Largest message source in bytes (UTF-8). 16 KiB holds several pages of
/// text; longer content belongs in a file.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;
/// Longest display name or conversation name in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest conversation topic/description in characters.
pub const MAX_TOPIC_CHARS: usize = 500;
/// Longest username in characters; usernames appear in mentions, so they
/// stay short and simple.
pub const MAX_USERNAME_CHARS: usize = 40;
/// Longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Shortest password; long passphrases beat complexity rules (NIST 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password in bytes, so hashing cost stays bounded.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Most members in a group. Groups are for teams; larger audiences use a
/// channel, which has no member limit.
pub const MAX_GROUP_MEMBERS: usize = 1000;
/// Most members added in one request, so one request stays one bounded write.
pub const MAX_MEMBERS_PER_REQUEST: usize = 1000;
/// Most distinct reaction emoji on one message.
pub const MAX_DISTINCT_REACTIONS: usize = 20;
/// Longest reaction in bytes (an emoji with modifiers, or a `:shortcode:`).
pub const MAX_REACTION_BYTES: usize = 32;
/// Most users one message may mention explicitly.
pub const MAX_MENTIONS: usize = 100;
/// Longest client transaction id in bytes.
pub const MAX_TXN_ID_BYTES: usize = 64;
/// Longest device name of a session.
pub const MAX_DEVICE_NAME_CHARS: usize = 100;
/// Default page size for history and lists.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size for history and lists.
pub const MAX_PAGE_SIZE: usize = 200;
/// Most missed events a reconnecting client is sent; beyond this it gets
/// `resync_required` and reloads state instead, which is cheaper for both.
pub const MAX_RESUME_EVENTS: usize = 10_000;
/// Largest JSON request body in bytes: a maximal message plus its metadata.
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;
/// Most conversations one user may belong to; joining or being added to
/// one more is refused (`limit_exceeded`). Bounds the cost of computing a
/// user's conversation list and resume filter.
pub const MAX_CONVERSATIONS_PER_USER: usize = 10_000;
/// Longest search query, in characters: a few words, not a document.
pub const MAX_SEARCH_QUERY_CHARS: usize = 200;
/// Default and largest number of search hits per page: each hit carries a
/// snippet, so pages are smaller than history pages.
pub const DEFAULT_SEARCH_PAGE: usize = 20;
/// Largest search page.
pub const MAX_SEARCH_PAGE: usize = 50;
/// Deepest a search may page (hits skipped): ranking everything beyond this
/// costs more than anyone reads; narrow the query instead.
pub const MAX_SEARCH_OFFSET: usize = 1000;
/// Deepest the directory may page (rows skipped): far beyond any
/// organisation's size, and it bounds how many rows a query walks past.
pub const MAX_DIRECTORY_OFFSET: usize = 1_000_000;
/// Longest attachment file name kept, in characters (the extension is kept
/// when a name is cut).
pub const MAX_FILE_NAME_CHARS: usize = 200;
/// Most attachments on one message.
pub const MAX_ATTACHMENTS_PER_MESSAGE: usize = 10;
/// People one socket may watch for presence at once: what one screen shows
/// (direct-message partners, an open member list), with room to spare.
/// Bounds the work one client can cause per presence change.
pub const MAX_PRESENCE_WATCH: usize = 500;
/// `watch_presence` frames one socket may send per minute: a screen changes
/// its list a few times a minute at most, and each answer is work under the
/// hub's lock.
pub const MAX_PRESENCE_WATCHES_PER_MINUTE: u32 = 30;
