//! Services: one module per area. A service validates input with
//! `kontor_core::validate`, calls one storage operation (which enforces the
//! policy atomically), and does what storage cannot: hashing, tokens, time,
//! and ephemeral real-time signals.
//!
//! Handlers call exactly one service function; the offline admin commands
//! and the demo seeder call the same functions.

pub mod accounts;
pub mod conversations;
pub mod files;
pub mod health;
pub mod housekeeping;
pub mod image_work;
pub mod messages;
pub mod pacing;
pub mod search;
pub mod sweep;
