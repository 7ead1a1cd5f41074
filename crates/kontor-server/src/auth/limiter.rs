//! Login limits that keep guessing expensive without locking out the person
//! who knows the password.
//!
//! The old rule (5 failures per account, then 429 for 15 minutes even for
//! the right password; 30 failures per address, then every login from it
//! refused) let anyone lock a colleague out with five wrong tries, let one
//! typist lock out a whole factory behind one NAT address, and told known
//! logins from unknown ones (username and e-mail shared a counter, so a 429
//! on the e-mail after failures on the username confirmed they belong
//! together). The rules here:
//!
//! - **Per login name** ([`LoginThrottle`]): the key is the submitted login,
//!   trimmed and lower-cased, whether or not an account has it, so a known
//!   and an unknown login are counted and answered alike. The first
//!   [`LOGIN_FREE_FAILURES`] failures in a [`LOGIN_FAILURE_WINDOW`] cost
//!   nothing. After that, attempts on that name are *spaced*, not refused:
//!   each waits for its own slot, [`LOGIN_THROTTLE_INTERVAL`] after the
//!   previous one, and only then is the password checked. The right
//!   password therefore still logs in (after at most
//!   [`LOGIN_THROTTLE_MAX_WAIT`]); only when the queue of waiting attempts
//!   is longer than that is the answer 429 with `Retry-After`, which needs
//!   an attacker who keeps several attempts in flight all the time, not five
//!   typos.
//! - **Per address** ([`DistinctFailures`]): counts how many *different*
//!   login names failed from one address in the window, not how many
//!   failures. 500 people behind one NAT who mistype their own passwords
//!   count once each; spraying one password across many accounts is what
//!   fills it ([`LOGIN_DISTINCT_LOGINS_PER_ADDRESS`]).
//!
//! What it costs an attacker: per login name at most 5 free guesses plus one
//! per 20 s, i.e. 50 per 15 minutes (200 an hour) instead of the old 5, each
//! an argon2id verification behind the global [`crate::state::CONCURRENT_PASSWORD_HASHES`].
//! That is the price of never locking the owner out; a username and its
//! e-mail are two names, so an account can be tried twice as often. Against
//! a password of the minimum length that is not in a common-password list
//! this is still far from enough; a guessable password stays guessable
//! online, as with any lockout that does not lock the owner out.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use kontor_core::model::Timestamp;

/// Failed logins on one name per window that are answered at once.
pub const LOGIN_FREE_FAILURES: u32 = 5;
/// The window failures are counted in; it starts with the first failure.
pub const LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// After the free failures, password checks on one name are at least this
/// far apart: 3 guesses a minute, slow enough for guessing, short enough
/// for a person who remembers the password.
pub const LOGIN_THROTTLE_INTERVAL: Duration = Duration::from_secs(20);
/// Longest an attempt waits for its slot; a longer queue answers 429, so
/// requests cannot pile up without bound behind one name.
pub const LOGIN_THROTTLE_MAX_WAIT: Duration = Duration::from_secs(60);
/// Different login names that may fail from one address per window before
/// the address is refused for the rest of it. A spray over many accounts
/// hits it; a NAT address whose people mistype their own password does not.
pub const LOGIN_DISTINCT_LOGINS_PER_ADDRESS: usize = 30;
/// Keys each limiter tracks at most. When full, expired entries are swept;
/// if a spray of distinct keys keeps it full, the older half is dropped, so
/// memory stays bounded and the cost of a sweep is amortised over many
/// failures.
pub const LIMITER_MAX_KEYS: usize = 100_000;

/// Make room for one more key: drop expired entries, then the older half.
fn make_room<K: Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    start: impl Fn(&V) -> Timestamp,
    now: Timestamp,
) {
    if map.len() < LIMITER_MAX_KEYS {
        return;
    }
    map.retain(|_, v| !expired(start(v), now));
    if map.len() >= LIMITER_MAX_KEYS / 2 {
        let mut starts: Vec<Timestamp> = map.values().map(&start).collect();
        let middle = starts.len() / 2;
        let cutoff = *starts.select_nth_unstable(middle).1;
        map.retain(|_, v| start(v) > cutoff);
    }
}

/// Milliseconds of `d`, for arithmetic on [`Timestamp`]s.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether a window that started at `start` is over at `now`.
fn expired(start: Timestamp, now: Timestamp) -> bool {
    now.0.saturating_sub(start.0) >= ms(LOGIN_FAILURE_WINDOW)
}

/// Whole seconds until `until`, at least 1 (for `Retry-After`).
fn seconds_until(until: Timestamp, now: Timestamp) -> u64 {
    u64::try_from(until.0.saturating_sub(now.0) / 1000)
        .unwrap_or(0)
        .max(1)
}

#[derive(Clone, Copy)]
struct Slots {
    attempts: u32,
    window_start: Timestamp,
    next_slot: Timestamp,
}

/// Per login name: free failures, then spaced password checks (see the
/// module documentation).
#[derive(Default)]
pub struct LoginThrottle {
    entries: Mutex<HashMap<String, Slots>>,
}

impl LoginThrottle {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slots>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count an attempt on `key` at `now` (the server's [`crate::state::Clock`])
    /// and say how long its password check must wait: `Ok(None)` not at
    /// all, `Ok(Some(d))` for `d` (the slot is now taken), `Err(seconds)`
    /// when the queue is full (not counted).
    ///
    /// An attempt counts as a failure from the moment it is admitted until
    /// [`LoginThrottle::clear`] after a success, so many attempts sent at
    /// once cannot all pass as "free" before the first one fails.
    pub fn admit(&self, key: &str, now: Timestamp) -> Result<Option<Duration>, u64> {
        let mut entries = self.entries();
        if !entries.contains_key(key) {
            make_room(&mut entries, |s| s.window_start, now);
        }
        let fresh = Slots {
            attempts: 0,
            window_start: now,
            next_slot: now,
        };
        let e = entries.entry(key.to_owned()).or_insert(fresh);
        if expired(e.window_start, now) {
            *e = fresh;
        }
        if e.attempts < LOGIN_FREE_FAILURES {
            e.attempts += 1;
            return Ok(None);
        }
        let slot = Timestamp(e.next_slot.0.max(now.0));
        let wait = slot.0 - now.0;
        if wait > ms(LOGIN_THROTTLE_MAX_WAIT) {
            let opens = Timestamp(slot.0 - ms(LOGIN_THROTTLE_MAX_WAIT));
            return Err(seconds_until(opens, now));
        }
        e.attempts = e.attempts.saturating_add(1);
        e.next_slot = Timestamp(slot.0.saturating_add(ms(LOGIN_THROTTLE_INTERVAL)));
        Ok((wait > 0).then(|| Duration::from_millis(wait.unsigned_abs())))
    }

    /// Forget `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        self.entries().remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }
}

/// Per client address: how many different login names failed from it.
#[derive(Default)]
pub struct DistinctFailures {
    entries: Mutex<HashMap<IpAddr, (HashSet<String>, Timestamp)>>,
}

impl DistinctFailures {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (HashSet<String>, Timestamp)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds)` while `address` is refused at `now`.
    pub fn check(&self, address: IpAddr, now: Timestamp) -> Result<(), u64> {
        match self.entries().get(&address) {
            Some((names, start))
                if names.len() >= LOGIN_DISTINCT_LOGINS_PER_ADDRESS && !expired(*start, now) =>
            {
                Err(seconds_until(
                    Timestamp(start.0.saturating_add(ms(LOGIN_FAILURE_WINDOW))),
                    now,
                ))
            }
            _ => Ok(()),
        }
    }

    /// Count a failure on login name `key` from `address` at `now`.
    pub fn record_failure(&self, address: IpAddr, key: &str, now: Timestamp) {
        let mut entries = self.entries();
        if !entries.contains_key(&address) {
            make_room(&mut entries, |(_, start)| *start, now);
        }
        let (names, start) = entries
            .entry(address)
            .or_insert_with(|| (HashSet::new(), now));
        if expired(*start, now) {
            names.clear();
            *start = now;
        }
        // Bounded: once full the address is refused, so no more names.
        if names.len() < LOGIN_DISTINCT_LOGINS_PER_ADDRESS {
            names.insert(key.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOT: Duration = LOGIN_THROTTLE_INTERVAL;

    fn at(t: Timestamp, d: Duration) -> Timestamp {
        Timestamp(t.0 + ms(d))
    }

    #[test]
    fn free_failures_then_spaced_slots_then_a_full_queue() {
        let t = LoginThrottle::default();
        let now = Timestamp(1_000_000);
        for _ in 0..LOGIN_FREE_FAILURES {
            assert_eq!(t.admit("anna", now), Ok(None));
        }
        // The first throttled attempt is checked at once, the next ones
        // wait for their slots, 20 s apart.
        assert_eq!(t.admit("anna", now), Ok(None));
        assert_eq!(t.admit("anna", now), Ok(Some(SLOT)));
        assert_eq!(t.admit("anna", now), Ok(Some(2 * SLOT)));
        assert_eq!(t.admit("anna", now), Ok(Some(3 * SLOT)));
        // A fourth waiter would wait 80 s: refused, and told when a slot
        // within the limit opens.
        assert_eq!(t.admit("anna", now), Err(20));
        // Other names are not affected.
        assert_eq!(t.admit("bernd", now), Ok(None));
        // Later the queue has drained.
        assert_eq!(t.admit("anna", at(now, Duration::from_secs(100))), Ok(None));
        // Attempts a slot apart never wait.
        let mut later = at(now, Duration::from_secs(200));
        for _ in 0..10 {
            assert_eq!(t.admit("anna", later), Ok(None));
            later = at(later, SLOT);
        }
        // A new window starts fresh; a success forgets the name.
        assert_eq!(t.admit("anna", at(now, LOGIN_FAILURE_WINDOW)), Ok(None));
        t.clear("anna");
        assert_eq!(t.len(), 1, "only bernd is left");
    }

    #[test]
    fn addresses_count_distinct_names_not_failures() {
        let d = DistinctFailures::default();
        let ip: IpAddr = [192, 0, 2, 1].into();
        let now = Timestamp(1_000_000);
        for _ in 0..100 {
            d.record_failure(ip, "anna", now);
        }
        assert_eq!(d.check(ip, now), Ok(()));
        for i in 1..LOGIN_DISTINCT_LOGINS_PER_ADDRESS {
            d.record_failure(ip, &format!("user{i}"), now);
        }
        assert_eq!(d.check(ip, now), Err(LOGIN_FAILURE_WINDOW.as_secs()));
        assert_eq!(d.check([192, 0, 2, 2].into(), now), Ok(()));
        assert_eq!(d.check(ip, at(now, LOGIN_FAILURE_WINDOW)), Ok(()));
    }

    #[test]
    fn memory_stays_bounded_under_a_key_spray() {
        let t = LoginThrottle::default();
        for i in 0..(LIMITER_MAX_KEYS * 2) {
            let _ = t.admit(&format!("k{i}"), Timestamp(i as i64));
        }
        let n = t.len();
        assert!(n <= LIMITER_MAX_KEYS && n > LIMITER_MAX_KEYS / 4, "{n}");
    }
}
