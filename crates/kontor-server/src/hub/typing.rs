//! Typing notices are ephemeral and cheap to send, so a client can send
//! them far faster than anyone can type. The hub passes on at most one per
//! person and conversation every [`TYPING_INTERVAL`] (the web client sends
//! one every 3 s while someone types) and drops the rest: a flood costs the
//! sender a map lookup, and the other members see one indicator.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kontor_core::ids::{ConversationId, UserId};

/// Shortest time between two typing notices of one person in one
/// conversation that are passed on to the other members.
pub const TYPING_INTERVAL: Duration = Duration::from_secs(2);
/// Entries kept before the expired ones are swept.
const SWEEP_AT: usize = 4096;

/// When each person last had a typing notice passed on, per conversation.
#[derive(Default)]
pub struct TypingThrottle {
    last: HashMap<(ConversationId, UserId), Instant>,
}

impl TypingThrottle {
    /// Whether a typing notice of `user` in `conv` at `now` is passed on;
    /// if so, it counts as the last one.
    pub fn admit(&mut self, conv: ConversationId, user: UserId, now: Instant) -> bool {
        if self.last.len() >= SWEEP_AT {
            self.last
                .retain(|_, at| now.saturating_duration_since(*at) < TYPING_INTERVAL);
        }
        match self.last.get_mut(&(conv, user)) {
            Some(at) if now.saturating_duration_since(*at) < TYPING_INTERVAL => false,
            Some(at) => {
                *at = now;
                true
            }
            None => {
                self.last.insert((conv, user), now);
                true
            }
        }
    }

    /// Entries held (bounded: swept once there are [`SWEEP_AT`]).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_notice_per_person_and_conversation_per_interval() {
        let mut t = TypingThrottle::default();
        let start = Instant::now();
        let (c1, c2, anna, bernd) = (ConversationId(1), ConversationId(2), UserId(1), UserId(2));
        assert!(t.admit(c1, anna, start));
        assert!(!t.admit(c1, anna, start + Duration::from_millis(10)));
        assert!(!t.admit(c1, anna, start + TYPING_INTERVAL - Duration::from_millis(1)));
        // Others, and the same person elsewhere, are not held up.
        assert!(t.admit(c1, bernd, start));
        assert!(t.admit(c2, anna, start));
        assert!(t.admit(c1, anna, start + TYPING_INTERVAL));
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = TypingThrottle::default();
        let start = Instant::now();
        for i in 0..(SWEEP_AT as i64 * 3) {
            // Every notice a little later than the last: old ones expire.
            let at = start + Duration::from_millis(i as u64);
            assert!(t.admit(ConversationId(i), UserId(1), at));
        }
        assert!(t.len() <= SWEEP_AT, "{}", t.len());
    }
}
