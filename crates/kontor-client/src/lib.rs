//! Kontor's Rust client library: typed REST calls and the live event
//! stream. The `kontor` command-line client and the integration tests use
//! it, so the API is exercised the way an application would use it.
//!
//! Layout: [`Client`] (REST, this file), `files` (uploads and downloads)
//! and `events` ([`EventStream`], the WebSocket).

use std::time::Duration;

use kontor_wire::requests::*;
use kontor_wire::*;
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use kontor_wire;

mod events;
mod files;

pub use events::{Closed, EventStream};
pub use files::Download;

/// What went wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{status}: {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// Explanation.
        message: String,
    },
    /// The request did not get through, or the answer was not understood.
    #[error("transport: {0}")]
    Transport(String),
    /// No session: log in first.
    #[error("not logged in")]
    NotLoggedIn,
}

impl ClientError {
    /// The stable error code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status, for API errors.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> Self {
        ClientError::Transport(e.to_string())
    }
}

/// Result alias.
pub type ClientResult<T> = Result<T, ClientError>;

/// A connection to one Kontor server, optionally logged in.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Time allowed for one REST request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Client {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> ClientResult<Client> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("kontor-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_owned(),
            token: None,
        })
    }

    /// The same client using an existing session token.
    pub fn with_token(mut self, token: impl Into<String>) -> Client {
        self.token = Some(token.into());
        self
    }

    /// The session token, once logged in.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Option<&(dyn ErasedQuery + Sync)>,
        body: Option<&(dyn ErasedBody + Sync)>,
    ) -> ClientResult<(StatusCode, Option<T>)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(q) = query {
            req = q.apply_query(req);
        }
        if let Some(b) = body {
            req = b.apply_body(req);
        }
        let (status, bytes) = finish(req.send().await?).await?;
        if bytes.is_empty() {
            return Ok((status, None));
        }
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Transport(format!("unexpected response: {e}")))?;
        Ok((status, Some(value)))
    }

    pub(crate) fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }
}

/// The status and body of a response, or its error envelope as an error.
pub(crate) async fn finish(resp: reqwest::Response) -> ClientResult<(StatusCode, Vec<u8>)> {
    {
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            let parsed: Option<ErrorEnvelope> = serde_json::from_slice(&bytes).ok();
            let (code, message) = match parsed {
                Some(e) => (e.error.code, e.error.message),
                None => (
                    "unknown".into(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ),
            };
            return Err(ClientError::Api {
                status: status.as_u16(),
                code,
                message,
            });
        }
        Ok((status, bytes.to_vec()))
    }
}

impl Client {
    async fn get<T: DeserializeOwned>(&self, path: &str) -> ClientResult<T> {
        self.call::<T>(Method::GET, path, None, None)
            .await?
            .1
            .ok_or_else(empty)
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &(dyn ErasedBody + Sync),
    ) -> ClientResult<(StatusCode, T)> {
        let (status, v) = self.call::<T>(method, path, None, Some(body)).await?;
        Ok((status, v.ok_or_else(empty)?))
    }

    async fn no_content(
        &self,
        method: Method,
        path: &str,
        body: Option<&(dyn ErasedBody + Sync)>,
    ) -> ClientResult<()> {
        self.call::<serde_json::Value>(method, path, None, body)
            .await
            .map(|_| ())
    }

    /// Log in; the client keeps the token.
    pub async fn login(
        &mut self,
        login: &str,
        password: &str,
        device_name: Option<&str>,
    ) -> ClientResult<LoginResponse> {
        let req = LoginRequest {
            login: login.into(),
            password: password.into(),
            device_name: device_name.map(str::to_owned),
        };
        let (_, resp): (_, LoginResponse) = self
            .send_json(Method::POST, "/api/v1/auth/login", &req)
            .await?;
        self.token = Some(resp.token.clone());
        Ok(resp)
    }

    /// End this session.
    pub async fn logout(&mut self) -> ClientResult<()> {
        self.no_content(Method::POST, "/api/v1/auth/logout", None)
            .await?;
        self.token = None;
        Ok(())
    }

    /// Who am I, with my own settings.
    pub async fn me(&self) -> ClientResult<Me> {
        self.get("/api/v1/me").await
    }

    /// Change my own settings.
    pub async fn update_me(&self, req: &UpdateMe) -> ClientResult<Me> {
        Ok(self.send_json(Method::PATCH, "/api/v1/me", req).await?.1)
    }

    /// My sessions.
    pub async fn sessions(&self) -> ClientResult<Vec<Session>> {
        self.get("/api/v1/sessions").await
    }

    /// Revoke a session.
    pub async fn revoke_session(&self, id: i64) -> ClientResult<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/sessions/{id}"), None)
            .await
    }

    /// The directory.
    pub async fn users(&self, query: &UserListQuery) -> ClientResult<Vec<User>> {
        let (_, v) = self
            .call(Method::GET, "/api/v1/users", Some(query), None)
            .await?;
        v.ok_or_else(empty)
    }

    /// One user.
    pub async fn user(&self, id: i64) -> ClientResult<User> {
        self.get(&format!("/api/v1/users/{id}")).await
    }

    /// My conversations.
    pub async fn conversations(&self) -> ClientResult<Vec<ConversationSummary>> {
        self.get("/api/v1/conversations").await
    }

    /// Create a conversation; the flag is true when newly created.
    pub async fn create_conversation(
        &self,
        req: &CreateConversation,
    ) -> ClientResult<(Conversation, bool)> {
        let (status, c) = self
            .send_json(Method::POST, "/api/v1/conversations", req)
            .await?;
        Ok((c, status == StatusCode::CREATED))
    }

    /// Public channels.
    pub async fn public_channels(&self) -> ClientResult<Vec<Conversation>> {
        self.get("/api/v1/channels").await
    }

    /// One conversation.
    pub async fn conversation(&self, id: i64) -> ClientResult<ConversationDetail> {
        self.get(&format!("/api/v1/conversations/{id}")).await
    }

    /// Change settings.
    pub async fn update_conversation(
        &self,
        id: i64,
        req: &UpdateConversation,
    ) -> ClientResult<Conversation> {
        Ok(self
            .send_json(Method::PATCH, &format!("/api/v1/conversations/{id}"), req)
            .await?
            .1)
    }

    /// Members.
    pub async fn members(&self, id: i64) -> ClientResult<Vec<Member>> {
        self.get(&format!("/api/v1/conversations/{id}/members"))
            .await
    }

    /// Add members.
    pub async fn add_members(&self, id: i64, user_ids: &[i64]) -> ClientResult<Vec<Member>> {
        let req = AddMembers {
            user_ids: user_ids.to_vec(),
        };
        Ok(self
            .send_json(
                Method::POST,
                &format!("/api/v1/conversations/{id}/members"),
                &req,
            )
            .await?
            .1)
    }

    /// Remove a member (or leave, with my own id).
    pub async fn remove_member(&self, id: i64, user_id: i64) -> ClientResult<()> {
        self.no_content(
            Method::DELETE,
            &format!("/api/v1/conversations/{id}/members/{user_id}"),
            None,
        )
        .await
    }

    /// Leave every group and channel `created_by` made.
    pub async fn leave_all_created_by(
        &self,
        created_by: i64,
    ) -> ClientResult<kontor_wire::LeftConversations> {
        let req = LeaveConversations { created_by };
        Ok(self
            .send_json(Method::POST, "/api/v1/conversations/leave", &req)
            .await?
            .1)
    }

    /// Change a member's role.
    pub async fn set_role(&self, id: i64, user_id: i64, role: &str) -> ClientResult<()> {
        let req = RoleChange { role: role.into() };
        self.no_content(
            Method::PUT,
            &format!("/api/v1/conversations/{id}/members/{user_id}/role"),
            Some(&req),
        )
        .await
    }

    /// Join a public channel.
    pub async fn join(&self, id: i64) -> ClientResult<Member> {
        let (_, v) = self
            .call(
                Method::POST,
                &format!("/api/v1/conversations/{id}/join"),
                None,
                None,
            )
            .await?;
        v.ok_or_else(empty)
    }

    /// Say I am typing.
    pub async fn typing(&self, id: i64) -> ClientResult<()> {
        self.no_content(
            Method::POST,
            &format!("/api/v1/conversations/{id}/typing"),
            None,
        )
        .await
    }

    /// History page.
    pub async fn history(&self, id: i64, params: &HistoryParams) -> ClientResult<HistoryResponse> {
        let (_, v) = self
            .call(
                Method::GET,
                &format!("/api/v1/conversations/{id}/messages"),
                Some(params),
                None,
            )
            .await?;
        v.ok_or_else(empty)
    }

    /// Full-text search over the messages of my conversations.
    pub async fn search(&self, params: &SearchParams) -> ClientResult<SearchResponse> {
        let (_, v) = self
            .call(Method::GET, "/api/v1/search", Some(params), None)
            .await?;
        v.ok_or_else(empty)
    }

    /// Post a message; the flag is true when newly posted (false when the
    /// transaction id was already used).
    pub async fn send(&self, id: i64, req: &SendMessage) -> ClientResult<(Message, bool)> {
        let (status, m) = self
            .send_json(
                Method::POST,
                &format!("/api/v1/conversations/{id}/messages"),
                req,
            )
            .await?;
        Ok((m, status == StatusCode::CREATED))
    }

    /// One message.
    pub async fn message(&self, id: i64) -> ClientResult<Message> {
        self.get(&format!("/api/v1/messages/{id}")).await
    }

    /// Edit a message.
    pub async fn edit(&self, id: i64, req: &EditMessage) -> ClientResult<Message> {
        Ok(self
            .send_json(Method::PATCH, &format!("/api/v1/messages/{id}"), req)
            .await?
            .1)
    }

    /// Delete a message.
    pub async fn delete(&self, id: i64) -> ClientResult<()> {
        self.no_content(Method::DELETE, &format!("/api/v1/messages/{id}"), None)
            .await
    }

    /// Add or remove my reaction.
    pub async fn react(&self, id: i64, emoji: &str, add: bool) -> ClientResult<()> {
        let method = if add { Method::PUT } else { Method::DELETE };
        let path = format!("/api/v1/messages/{id}/reactions/{}", percent_encode(emoji));
        self.no_content(method, &path, None).await
    }

    /// Move my read position.
    pub async fn mark_read(&self, id: i64, message_id: i64) -> ClientResult<()> {
        let req = ReadPosition { message_id };
        self.no_content(
            Method::PUT,
            &format!("/api/v1/conversations/{id}/read"),
            Some(&req),
        )
        .await
    }
}

fn empty() -> ClientError {
    ClientError::Transport("empty response".into())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(serde::Deserialize)]
struct ErrorEnvelope {
    error: ErrorInner,
}

#[derive(serde::Deserialize)]
struct ErrorInner {
    code: String,
    message: String,
}

/// Object-safe "serialize me as a JSON body".
trait ErasedBody {
    fn apply_body(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder;
}

impl<T: Serialize> ErasedBody for T {
    fn apply_body(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.json(self)
    }
}

/// Object-safe "serialize me as a query string".
trait ErasedQuery {
    fn apply_query(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder;
}

impl<T: Serialize> ErasedQuery for T {
    fn apply_query(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.query(self)
    }
}
