//! Authentication: passwords, session tokens, the login rate limiter and the
//! extractor that turns a request's token into an authenticated session.
//!
//! Tokens are 256 random bits, shown to the client once and stored only as
//! a SHA-256 hash, so a database leak yields no usable sessions. A fast hash
//! suffices for tokens (they have full entropy); passwords get argon2id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kontor_core::model::{Session, User};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of every session token, so leaked tokens are easy to recognise
/// in logs and by secret scanners.
pub const TOKEN_PREFIX: &str = "kt_";
/// Cookie a browser may carry the token in.
pub const SESSION_COOKIE: &str = "kontor_session";

/// A new random session token and its hash.
pub fn new_token() -> (String, [u8; 32]) {
    let bytes: [u8; 32] = rand::random();
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Hash a password with argon2id (default parameters: 19 MiB, 2 passes).
/// CPU-heavy: call from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let hash: Result<PasswordHash, _> = Argon2::default().hash_password(password.as_bytes());
    hash.map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
}

/// Check a password against a stored hash. CPU-heavy: call from a blocking
/// thread.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// The token a request carries: `Authorization: Bearer` first, then the
/// session cookie. Never the URL.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION)
        && let Ok(s) = v.to_str()
        && let Some(t) = s.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_owned());
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

/// An authenticated request: the session and its user.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = token_from_headers(&parts.headers).ok_or(ApiError::Unauthenticated)?;
        crate::service::accounts::authenticate(state, &token).await
    }
}

/// Counts failed logins per key (account or address) in fixed windows.
///
/// Hand-written rather than `governor` because only failures count:
/// governor's limiters consume a cell on every check, which would also
/// throttle correct logins.
pub struct FailureLimiter {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Keys tracked at most. When full, expired entries are swept; if a spray
/// of distinct keys keeps it full, the older half is dropped, so memory
/// stays bounded and the cost of a sweep is amortised over many failures.
pub const LIMITER_MAX_KEYS: usize = 100_000;

impl FailureLimiter {
    /// At most `max_failures` per `window` per key.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureLimiter {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds)` while `key` is blocked.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let entries = self.entries();
        match entries.get(key) {
            Some((n, start)) if *n >= self.max_failures && start.elapsed() < self.window => {
                Err((self.window - start.elapsed()).as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Count a failure for `key`.
    pub fn record_failure(&self, key: &str) {
        let mut entries = self.entries();
        if entries.len() >= LIMITER_MAX_KEYS && !entries.contains_key(key) {
            let window = self.window;
            entries.retain(|_, (_, start)| start.elapsed() < window);
            if entries.len() >= LIMITER_MAX_KEYS / 2 {
                let mut starts: Vec<Instant> = entries.values().map(|(_, s)| *s).collect();
                let middle = starts.len() / 2;
                let cutoff = *starts.select_nth_unstable(middle).1;
                entries.retain(|_, (_, start)| *start > cutoff);
            }
        }
        let e = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    /// Forget `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        self.entries().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_blocks_after_max_failures_and_clears() {
        let l = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("anna").is_ok());
            l.record_failure("anna");
        }
        assert!(l.check("anna").is_err());
        assert!(l.check("bernd").is_ok());
        assert!(l.check("bernd").is_ok());
        l.clear("anna");
        assert!(l.check("anna").is_ok());
    }

    #[test]
    fn tokens_are_prefixed_and_hash_stably() {
        let (t, h) = new_token();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&t), h);
        assert_ne!(new_token().0, t);
    }

    #[test]
    fn limiter_memory_stays_bounded_under_a_key_spray() {
        let l = FailureLimiter::new(3, Duration::from_secs(600));
        for i in 0..(LIMITER_MAX_KEYS * 2) {
            l.record_failure(&format!("k{i}"));
        }
        let n = l.entries().len();
        assert!(n <= LIMITER_MAX_KEYS && n > LIMITER_MAX_KEYS / 4, "{n}");
        // The newest keys are kept.
        for _ in 0..3 {
            l.record_failure("latest");
        }
        assert!(l.check("latest").is_err());
    }
}
