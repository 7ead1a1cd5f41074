//! Organisations, users, login and sessions.

use std::net::IpAddr;

use kontor_core::DomainError;
use kontor_core::ids::{OrgId, SessionId, UserId};
use kontor_core::model::{Org, OrgRole, Session, User};
use kontor_core::validate;
use kontor_storage::{NewSession, NewUser, UserQuery};

use crate::auth::{self, Authenticated};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Sessions are marked as seen at most this often, so authentication does
/// not turn every read into a write.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A password hash computed off the async threads, bounded in concurrency.
async fn hash(state: &AppState, password: String) -> ApiResult<String> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable("shutting down".into()))?;
    let cost = state.config.test_only_password_cost;
    tokio::task::spawn_blocking(move || auth::hash_password(&password, cost))
        .await
        .map_err(|e| ApiError::Internal(format!("hash task: {e}")))?
}

async fn verify(state: &AppState, password: String, stored: String) -> ApiResult<bool> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|_| ApiError::Unavailable("shutting down".into()))?;
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &stored))
        .await
        .map_err(|e| ApiError::Internal(format!("verify task: {e}")))
}

/// Create an organisation.
pub async fn create_org(state: &AppState, name: &str) -> ApiResult<Org> {
    let name = validate::name("name", name)?;
    Ok(state.store.create_org(name, state.now()).await?)
}

/// Find an organisation by name.
pub async fn org_by_name(state: &AppState, name: &str) -> ApiResult<Option<Org>> {
    Ok(state.store.org_by_name(name.to_owned()).await?)
}

/// All organisations.
pub async fn list_orgs(state: &AppState) -> ApiResult<Vec<Org>> {
    Ok(state.store.list_orgs().await?)
}

/// What it takes to create a user.
pub struct UserSpec<'a> {
    /// Organisation.
    pub org_id: OrgId,
    /// Username.
    pub username: &'a str,
    /// Optional email.
    pub email: Option<&'a str>,
    /// Display name.
    pub display_name: &'a str,
    /// Initial password.
    pub password: &'a str,
    /// Organisation role.
    pub org_role: OrgRole,
}

/// Create a user.
pub async fn create_user(state: &AppState, spec: UserSpec<'_>) -> ApiResult<User> {
    let new = NewUser {
        org_id: spec.org_id,
        username: validate::username(spec.username)?,
        email: spec.email.map(validate::email).transpose()?,
        display_name: validate::name("display_name", spec.display_name)?,
        org_role: spec.org_role,
        password_hash: hash(state, validate::new_password(spec.password)?.to_owned()).await?,
    };
    Ok(state.store.create_user(new, state.now()).await?)
}

/// Set a new password; all of the user's sessions end.
pub async fn reset_password(state: &AppState, login: &str, password: &str) -> ApiResult<User> {
    let (user, _) = state
        .store
        .user_by_login(login.trim().to_lowercase())
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    let hashed = hash(state, validate::new_password(password)?.to_owned()).await?;
    state
        .store
        .set_password(user.id, hashed, state.now())
        .await?;
    Ok(user)
}

/// A successful login.
pub struct LoginOutcome {
    /// The token, shown this once.
    pub token: String,
    /// The new session.
    pub session: Session,
    /// Who logged in.
    pub user: User,
}

/// Check a login and password and open a session.
///
/// Attempts are counted per submitted login name (trimmed, lower-cased),
/// known or unknown alike, and per client address by distinct names that
/// failed (`auth::limiter` has the reasoning and the numbers). A throttled
/// name is slowed down, not locked: the attempt waits for its slot and the
/// right password still logs in. An unknown login costs as much time as a
/// wrong password and gets the same answer, so logins cannot be probed.
pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    device_name: Option<&str>,
    address: IpAddr,
) -> ApiResult<LoginOutcome> {
    let login = login.trim().to_lowercase();
    let device_name = validate::device_name(device_name)?;
    state
        .login_by_address
        .check(address, state.now())
        .map_err(ApiError::RateLimited)?;
    // No account has a longer login, so such a name is neither counted
    // (the limiter's memory stays small) nor checked.
    if password.len() > kontor_core::limits::MAX_PASSWORD_BYTES
        || login.is_empty()
        || login.chars().count() > kontor_core::limits::MAX_EMAIL_CHARS
    {
        return Err(ApiError::InvalidCredentials);
    }
    if let Some(wait) = state
        .login_by_name
        .admit(&login, state.now())
        .map_err(ApiError::RateLimited)?
    {
        tokio::time::sleep(wait).await;
    }
    let found = state.store.user_by_login(login.clone()).await?;
    let stored = match &found {
        Some((_, h)) => h.clone(),
        None => dummy_hash(state).await?,
    };
    let ok = verify(state, password.to_owned(), stored).await?;
    let user = match (found, ok) {
        (Some((user, _)), true) => user,
        _ => {
            state
                .login_by_address
                .record_failure(address, &login, state.now());
            tracing::info!(%address, "failed login");
            return Err(ApiError::InvalidCredentials);
        }
    };
    state.login_by_name.clear(&login);
    let (token, token_hash) = auth::new_token();
    let session = state
        .store
        .create_session(
            NewSession {
                user_id: user.id,
                token_hash,
                device_name,
            },
            state.now(),
        )
        .await?;
    Ok(LoginOutcome {
        token,
        session,
        user,
    })
}

/// A fixed hash to verify against when the login is unknown.
async fn dummy_hash(state: &AppState) -> ApiResult<String> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash(state, "not a real password, only for timing".to_owned()))
        .await
        .cloned()
}

/// The session behind a token.
pub async fn authenticate(state: &AppState, token: &str) -> ApiResult<Authenticated> {
    if !token.starts_with(auth::TOKEN_PREFIX) || token.len() > 128 {
        return Err(ApiError::Unauthenticated);
    }
    let (mut session, user) = state
        .store
        .authenticate(auth::hash_token(token))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let now = state.now();
    if now.0 - session.last_seen_at.0 >= TOUCH_INTERVAL_MS {
        state.store.touch_session(session.id, now).await?;
        session.last_seen_at = now;
    }
    Ok(Authenticated { session, user })
}

/// End the caller's session.
pub async fn logout(state: &AppState, auth: &Authenticated) -> ApiResult<()> {
    Ok(state
        .store
        .revoke_session(auth.user.id, auth.session.id, state.now())
        .await?)
}

/// Change the caller's own settings; returns them as they now are.
pub async fn update_me(
    state: &AppState,
    auth: &Authenticated,
    share_presence: Option<bool>,
) -> ApiResult<User> {
    match share_presence {
        Some(share) => Ok(state
            .store
            .set_share_presence(auth.user.id, share, state.now())
            .await?),
        None => Ok(auth.user.clone()),
    }
}

/// The caller's sessions.
pub async fn list_sessions(state: &AppState, auth: &Authenticated) -> ApiResult<Vec<Session>> {
    Ok(state.store.list_sessions(auth.user.id).await?)
}

/// End one of the caller's sessions; its sockets close at once.
pub async fn revoke_session(
    state: &AppState,
    auth: &Authenticated,
    id: SessionId,
) -> ApiResult<()> {
    Ok(state
        .store
        .revoke_session(auth.user.id, id, state.now())
        .await?)
}

/// The organisation's directory.
pub async fn list_users(
    state: &AppState,
    org: OrgId,
    search: Option<&str>,
    offset: Option<u32>,
    limit: Option<u32>,
) -> ApiResult<Vec<User>> {
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.chars().count() > kontor_core::limits::MAX_NAME_CHARS) {
        return Err(DomainError::invalid("search", "is too long").into());
    }
    let query = UserQuery {
        search: search.map(str::to_owned),
        offset: validate::directory_offset(offset)?,
        limit: validate::page_size(limit)?,
    };
    Ok(state.store.list_users(org, query).await?)
}

/// One user of the caller's organisation.
pub async fn get_user(state: &AppState, org: OrgId, id: UserId) -> ApiResult<User> {
    Ok(state.store.get_user(org, id).await?)
}

/// A user by login, for the offline admin commands.
pub async fn user_by_login(state: &AppState, login: &str) -> ApiResult<Option<User>> {
    Ok(state
        .store
        .user_by_login(login.trim().to_lowercase())
        .await?
        .map(|(u, _)| u))
}
