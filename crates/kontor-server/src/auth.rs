//! Authentication: passwords, session tokens, the login rate limiter and the
//! extractor that turns a request's token into an authenticated session.
//!
//! Tokens are 256 random bits, shown to the client once and stored only as
//! a SHA-256 hash, so a database leak yields no usable sessions. A fast hash
//! suffices for tokens (they have full entropy); passwords get argon2id.

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

mod limiter;
pub use limiter::*;

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

/// How expensive new password hashes are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PasswordCost {
    /// argon2id's recommended parameters (19 MiB, 2 passes): what every
    /// real server uses.
    #[default]
    Standard,
    /// The smallest parameters argon2 accepts (8 KiB, 1 pass), for test
    /// servers that create hundreds of accounts. Only code can choose it
    /// (see [`crate::config::Config::test_only_password_cost`]).
    TestsOnly,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        match self {
            PasswordCost::Standard => Argon2::default(),
            PasswordCost::TestsOnly => match argon2::Params::new(
                argon2::Params::MIN_M_COST,
                argon2::Params::MIN_T_COST,
                argon2::Params::MIN_P_COST,
                None,
            ) {
                Ok(params) => {
                    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                }
                Err(_) => Argon2::default(),
            },
        }
    }
}

/// Hash a password with argon2id at `cost`. CPU-heavy: call from a blocking
/// thread.
pub fn hash_password(password: &str, cost: PasswordCost) -> Result<String, ApiError> {
    let hash: Result<PasswordHash, _> = cost.hasher().hash_password(password.as_bytes());
    hash.map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
}

/// Check a password against a stored hash, with the parameters the hash
/// names. CPU-heavy: call from a blocking thread.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// Where a request's token came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer`: sent only by code that chose to.
    Bearer(String),
    /// The `kontor_session` cookie: attached by the browser to any request,
    /// including those other sites make it send (see [`crate::origin`]).
    Cookie(String),
}

/// The bearer token of `Authorization: Bearer`, if any.
pub fn bearer_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The credential a request carries: `Authorization: Bearer` first, then
/// the session cookie. Never the URL.
pub fn credential_from_headers(headers: &HeaderMap) -> Option<Credential> {
    if let Some(token) = bearer_from_headers(headers) {
        return Some(Credential::Bearer(token));
    }
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| Credential::Cookie(v.to_owned()))
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
        let token = match credential_from_headers(&parts.headers) {
            Some(Credential::Bearer(token)) => token,
            // A cookie request that changes something must come from our
            // own pages (CSRF); reading is left to the browser's same-origin
            // policy.
            Some(Credential::Cookie(token)) => {
                if !parts.method.is_safe()
                    && !crate::origin::same_origin(&state.config, &parts.headers)
                {
                    return Err(ApiError::OriginNotAllowed);
                }
                token
            }
            None => return Err(ApiError::Unauthenticated),
        };
        crate::service::accounts::authenticate(state, &token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_and_hash_stably() {
        let (t, h) = new_token();
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&t), h);
        assert_ne!(new_token().0, t);
    }

    #[test]
    fn real_hashes_use_argon2id_defaults_and_test_hashes_still_verify() {
        let real = hash_password("geheim", PasswordCost::Standard).expect("hash");
        assert!(
            real.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{real}"
        );
        let cheap = hash_password("geheim", PasswordCost::TestsOnly).expect("hash");
        assert!(cheap.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{cheap}");
        assert!(verify_password("geheim", &real));
        assert!(verify_password("geheim", &cheap));
        assert!(!verify_password("Geheim", &cheap));
    }
}
