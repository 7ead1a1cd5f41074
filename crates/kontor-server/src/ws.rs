//! The event stream: `GET /api/v1/events` upgraded to a WebSocket.
//!
//! Protocol:
//! 1. Authenticate with `Authorization: Bearer` or, for browsers that cannot
//!    set headers, a first frame `{"type":"auth","token":"kt_..."}` within 10
//!    seconds. Tokens never travel in the URL. The session cookie does not
//!    authenticate a socket: a browser sends it along unasked (a cookie
//!    planted by a sibling site included), so with both a cookie for A and
//!    a first-frame token for B the socket must be B's, and the server
//!    cannot know before the first frame whether one will come. Ignoring
//!    the cookie makes the explicit token always win. Browsers must also
//!    pass `origin::same_origin` (403 `origin_not_allowed`).
//! 2. The server sends `hello` with the position live delivery starts after.
//! 3. With `?after=<position>`, missed events are replayed first (only those
//!    the user may see, in order), then `resumed`; or `resync_required` if
//!    the position is too old or unknown.
//! 4. Live events follow. Clients may send `{"type":"typing","conversation_id":N}`
//!    and post messages with `send` frames (see [`ClientFrame`]), each
//!    answered by `sent` or `send_failed`; at most [`MAX_SENDS_IN_FLIGHT`]
//!    are processed at once per socket. `watch_presence` names whose
//!    presence the socket follows (`presence` frames; see `hub::presence`).
//!
//! The server pings every 30 seconds. It closes connections silent for more
//! than 75 seconds (`idle_timeout`; checked at each ping, so within 105
//! seconds), too slow to read (`slow_consumer`), sending a frame over 64 KiB
//! (1009 `message_too_big`), whose session ended
//! (`session_revoked`; at once, or by the next ping when ended by another
//! process), or at shutdown (`server_restart`).

use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use kontor_core::ids::{ConversationId, EventSeq};
use kontor_core::limits::{MAX_PRESENCE_WATCH, MAX_PRESENCE_WATCHES_PER_MINUTE};
use kontor_core::model::Actor;
use kontor_storage::Resume;
use serde::Deserialize;
use tokio::time::{Instant, timeout};
use utoipa::IntoParams;

use crate::api::messages::spec_of;
use crate::auth::{Authenticated, bearer_from_headers};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::hub::{CloseReason, Refused};
use crate::service;
use crate::state::AppState;
use kontor_wire::requests::{ClientFrame, SendMessage};
use kontor_wire::{EventFrame, WireEvent, encode_frame};

/// How often the server pings.
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// Longest a resuming client waits for this node's hub to reach the newest
/// committed position (see `catch_up`).
pub const RESUME_CATCH_UP: Duration = Duration::from_secs(2);
/// Silence after which a connection is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(75);
/// Time allowed for the first-frame authentication.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Time one frame may take to write before the client counts as gone.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Read chunk per connection, allocated for the socket's lifetime.
pub const READ_CHUNK_BYTES: usize = 512;
/// Largest frame a client may send: a `send` frame carries a message, so
/// the limit is that of a REST request body.
pub const MAX_CLIENT_FRAME_BYTES: usize = kontor_core::limits::MAX_REQUEST_BODY_BYTES;
/// `send` frames one socket may have waiting for the storage writer. While
/// that many are open the server stops reading the socket, which pushes
/// back on the client instead of queueing without bound.
pub const MAX_SENDS_IN_FLIGHT: usize = 32;

/// Query of the event stream.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// Resume after this position (the last `seq` you processed).
    #[serde(default, deserialize_with = "kontor_wire::number::optional")]
    pub after: Option<i64>,
}

/// Open the live event stream (WebSocket). Server frames are
/// [`EventFrame`]s; client frames are [`ClientFrame`]s (`auth`, `typing`,
/// `send`, `watch_presence`, at most 64 KiB each, at most 32 `send`s in
/// flight per socket, at most 500 people watched).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsParams),
    responses(
        (status = 101, description = "Switching to WebSocket; every frame is an EventFrame", body = EventFrame),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Origin not allowed (`origin_not_allowed`)", body = ErrorBody),
        (status = 426, description = "Not a WebSocket request (`upgrade_required`)", body = ErrorBody),
    ))]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<EventsParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let upgrade = upgrade.map_err(|_| ApiError::UpgradeRequired)?;
    if !crate::origin::same_origin(&state.config, &headers) {
        return Err(ApiError::OriginNotAllowed);
    }
    // Only an explicit bearer token authenticates the handshake; the
    // session cookie is not read here (see the module documentation).
    let pre_auth = match bearer_from_headers(&headers) {
        Some(token) => Some(service::accounts::authenticate(&state, &token).await?),
        None => None,
    };
    let after = params.after.map(EventSeq);
    Ok(upgrade
        .max_message_size(MAX_CLIENT_FRAME_BYTES)
        .max_frame_size(MAX_CLIENT_FRAME_BYTES)
        // Most client frames are tiny (auth, typing): a small read chunk
        // keeps an idle connection cheap; larger frames (`send`) still
        // assemble across reads.
        .read_buffer_size(READ_CHUNK_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            connection(state, socket, pre_auth, after).await;
        }))
}

fn frame(event: WireEvent) -> Message {
    let bytes = encode_frame(&EventFrame { seq: None, event });
    Message::Text(Utf8Bytes::try_from(bytes).unwrap_or_else(|_| Utf8Bytes::from_static("{}")))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Write one frame, giving up after [`WRITE_TIMEOUT`]. Almost every write
/// completes at once, so the timer is only armed for one that has to wait:
/// registering a timer per frame was a measurable share of fan-out cost.
async fn send(socket: &mut WebSocket, msg: Message) -> bool {
    let mut write = std::pin::pin!(socket.send(msg));
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    if let Poll::Ready(result) = first {
        return result.is_ok();
    }
    matches!(timeout(WRITE_TIMEOUT, write).await, Ok(Ok(())))
}

/// The close frame for a frame over [`MAX_CLIENT_FRAME_BYTES`] (1009,
/// "message too big", RFC 6455 7.4.1).
const TOO_BIG: (u16, &str) = (1009, "message_too_big");
/// The close frame for a socket that did not authenticate.
const UNAUTHENTICATED: (u16, &str) = (4001, "unauthenticated");

/// Whether a read failed because the client's frame was over the limit.
/// tungstenite refuses it from the frame header, before reading it; the
/// socket can still send the close frame that says why.
fn too_big(e: &axum::Error) -> bool {
    std::error::Error::source(e)
        .and_then(|inner| inner.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

/// The first frame's token, or the close frame to answer with.
async fn first_frame_auth(
    state: &AppState,
    socket: &mut WebSocket,
) -> Result<Authenticated, (u16, &'static str)> {
    let msg = match timeout(AUTH_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(msg))) => msg,
        Ok(Some(Err(e))) if too_big(&e) => return Err(TOO_BIG),
        _ => return Err(UNAUTHENTICATED),
    };
    let Message::Text(text) = msg else {
        return Err(UNAUTHENTICATED);
    };
    let Ok(ClientFrame::Auth { token }) = serde_json::from_str::<ClientFrame>(&text) else {
        return Err(UNAUTHENTICATED);
    };
    service::accounts::authenticate(state, &token)
        .await
        .map_err(|_| UNAUTHENTICATED)
}

async fn connection(
    state: AppState,
    mut socket: WebSocket,
    pre_auth: Option<Authenticated>,
    after: Option<EventSeq>,
) {
    let auth = match pre_auth {
        Some(a) => a,
        None => match first_frame_auth(&state, &mut socket).await {
            Ok(a) => a,
            Err((code, reason)) => {
                close_with(&state, &mut socket, code, reason).await;
                return;
            }
        },
    };
    if after.is_some() {
        catch_up(&state).await;
    }
    let mut sub = match state
        .hub
        .subscribe(auth.user.id, auth.user.org_id, auth.session.id)
    {
        Ok(sub) => sub,
        Err(Refused::ShuttingDown) => {
            close_with(&state, &mut socket, 1012, "server_restart").await;
            return;
        }
        Err(Refused::TooManySockets) => {
            close_with(&state, &mut socket, 4029, "too_many_sockets").await;
            return;
        }
    };
    let hello = WireEvent::Hello {
        user_id: auth.user.id.0,
        session_id: auth.session.id.0,
        position: sub.position.0,
        heartbeat_seconds: HEARTBEAT.as_secs(),
    };
    if !send(&mut socket, frame(hello)).await {
        return;
    }
    if let Some(after) = after
        && !replay(&state, &mut socket, &auth, after, sub.position).await
    {
        return;
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.reset();
    let mut last_heard = Instant::now();
    let user = auth.user.actor();
    let closer = sub.closer.clone();
    let mut closed = std::pin::pin!(closer.closed());
    let mut sending = FuturesUnordered::new();
    let mut watches = RateWindow::default();
    let mut typing = crate::hub::typing::TypingThrottle::default();
    loop {
        tokio::select! {
            biased;
            reason = &mut closed => {
                let (code, text) = reason.close_frame();
                close_with(&state, &mut socket, code, text).await;
                return;
            }
            next = sub.frames.recv() => {
                let Some(f) = next else { return };
                if !deliver(&state, &mut socket, Message::Text(f), closed.as_mut()).await {
                    return;
                }
            }
            Some(answer) = sending.next(), if !sending.is_empty() => {
                if !deliver(&state, &mut socket, frame(answer), closed.as_mut()).await {
                    return;
                }
            }
            incoming = socket.recv(), if sending.len() < MAX_SENDS_IN_FLIGHT => {
                let msg = match incoming {
                    Some(Ok(msg)) => msg,
                    Some(Err(e)) if too_big(&e) => {
                        close_with(&state, &mut socket, TOO_BIG.0, TOO_BIG.1).await;
                        return;
                    }
                    _ => return,
                };
                last_heard = Instant::now();
                match msg {
                    Message::Text(text) => match serde_json::from_str::<ClientFrame>(&text) {
                        Ok(ClientFrame::Typing { conversation_id }) => {
                            // Checked here first so a flood never reaches the hub's lock.
                            if typing.admit(ConversationId(conversation_id), user.user_id, Instant::now().into_std()) {
                                let _ = service::conversations::typing(&state, user, ConversationId(conversation_id));
                            }
                        }
                        Ok(ClientFrame::WatchPresence { user_ids }) => {
                            let refused = if !watches.admit(Instant::now()) {
                                Some(("rate_limited", format!("at most {MAX_PRESENCE_WATCHES_PER_MINUTE} watch_presence frames a minute")))
                            } else if sub.watch_presence(&user_ids).is_err() {
                                Some(("too_many_watched", format!("watch at most {MAX_PRESENCE_WATCH} people at once")))
                            } else {
                                None
                            };
                            if let Some((code, message)) = refused {
                                let err = WireEvent::Error { code: code.into(), message };
                                if !deliver(&state, &mut socket, frame(err), closed.as_mut()).await {
                                    return;
                                }
                            }
                        }
                        Ok(ClientFrame::Send { conversation_id, txn_id, text, thread_root_id, mentions, mentions_channel, attachment_ids }) => {
                            let spec = SendMessage { txn_id, text, thread_root_id, mentions, mentions_channel, attachment_ids };
                            sending.push(post(state.clone(), user, ConversationId(conversation_id), spec));
                        }
                        Ok(ClientFrame::Auth { .. }) | Err(_) => {
                            let err = WireEvent::Error {
                                code: "invalid_frame".into(),
                                message: "expected a typing, send or watch_presence frame (see ClientFrame in the API document)".into(),
                            };
                            if !deliver(&state, &mut socket, frame(err), closed.as_mut()).await {
                                return;
                            }
                        }
                    },
                    Message::Close(_) => return,
                    _ => {}
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > IDLE_TIMEOUT {
                    close_with(&state, &mut socket, 4000, "idle_timeout").await;
                    return;
                }
                if !session_alive(&state, &auth).await {
                    close_with(&state, &mut socket, 4003, "session_revoked").await;
                    return;
                }
                if !deliver(&state, &mut socket, Message::Ping(bytes::Bytes::new()), closed.as_mut()).await {
                    return;
                }
            }
        }
    }
}

/// Counts one kind of client frame per minute, for a per-socket limit.
#[derive(Default)]
struct RateWindow {
    started: Option<Instant>,
    count: u32,
}

impl RateWindow {
    /// Whether one more frame at `now` is within
    /// [`MAX_PRESENCE_WATCHES_PER_MINUTE`].
    fn admit(&mut self, now: Instant) -> bool {
        match self.started {
            Some(t) if now.duration_since(t) < Duration::from_secs(60) => {}
            _ => {
                self.started = Some(now);
                self.count = 0;
            }
        }
        self.count = self.count.saturating_add(1);
        self.count <= MAX_PRESENCE_WATCHES_PER_MINUTE
    }
}

/// Write one frame unless the hub orders the socket closed first; `false`
/// when the socket has ended. A client that stopped reading leaves a write
/// waiting on a full TCP buffer, and the order to close (`slow_consumer`)
/// must not wait behind it for up to [`WRITE_TIMEOUT`], or the client
/// would see the connection drop without being told why. Giving up on the
/// wait loses nothing the client could still get: what the socket already
/// accepted stays queued in front of the close frame.
async fn deliver(
    state: &AppState,
    socket: &mut WebSocket,
    msg: Message,
    closed: Pin<&mut impl Future<Output = CloseReason>>,
) -> bool {
    let reason = tokio::select! {
        biased;
        reason = closed => reason,
        sent = send(socket, msg) => return sent,
    };
    let (code, text) = reason.close_frame();
    close_with(state, socket, code, text).await;
    false
}

/// Close the socket with a frame that says why, counted for the metrics.
async fn close_with(state: &AppState, socket: &mut WebSocket, code: u16, reason: &'static str) {
    state.metrics.socket_closed(reason);
    send(socket, close(code, reason)).await;
}

/// Post a message from a `send` frame and build the answer frame. Errors
/// carry the same stable codes as the REST endpoint.
async fn post(state: AppState, actor: Actor, conv: ConversationId, req: SendMessage) -> WireEvent {
    let result = service::messages::send(&state, actor, conv, spec_of(&req)).await;
    match result {
        Ok(out) => WireEvent::Sent {
            txn_id: req.txn_id,
            conversation_id: conv.0,
            message_id: out.message.id.0,
            created: out.created,
        },
        Err(e) => {
            let (_, code, message, _) = e.parts();
            WireEvent::SendFailed {
                txn_id: req.txn_id,
                code: code.into(),
                message,
            }
        }
    }
}

/// Whether the socket's session still exists. Revocations through this
/// server close sockets at once via the hub; this check, once per
/// heartbeat, also catches sessions ended elsewhere, such as by
/// `kontor admin reset-password` in another process. Storage trouble is
/// not a reason to drop a client.
async fn session_alive(state: &AppState, auth: &Authenticated) -> bool {
    match state.store.list_sessions(auth.user.id).await {
        Ok(sessions) => sessions.iter().any(|s| s.id == auth.session.id),
        Err(_) => true,
    }
}

/// Let the hub reach the newest committed position before a resume, so
/// the replay holds everything committed before the client connected (its
/// own last write included) and live delivery never repeats what another
/// node already delivered to it. Committed events reach the hub a moment
/// after the commit (through the writer's channel, or the PostgreSQL tail),
/// so without this a just-committed event would arrive after `resumed`
/// instead of in the replay. Normally a wait of milliseconds.
async fn catch_up(state: &AppState) {
    let Ok(head) = state.store.head().await else {
        return;
    };
    if head <= state.hub.position() {
        return;
    }
    state.store.wake();
    if !state.hub.caught_up(head, RESUME_CATCH_UP).await {
        tracing::warn!(head = head.0, "hub did not catch up before resume");
    }
}

/// Send the events the user missed in `(after, upto]`; live delivery covers
/// everything after `upto`.
async fn replay(
    state: &AppState,
    socket: &mut WebSocket,
    auth: &Authenticated,
    after: EventSeq,
    upto: EventSeq,
) -> bool {
    match state.store.events_after(auth.user.id, after).await {
        Ok(Resume::Events(events)) => {
            let mut replayed = 0u64;
            for ev in events.into_iter().filter(|e| e.seq <= upto) {
                let Ok(text) = Utf8Bytes::try_from(ev.frame) else {
                    continue;
                };
                if !send(socket, Message::Text(text)).await {
                    return false;
                }
                replayed += 1;
            }
            send(socket, frame(WireEvent::Resumed { replayed })).await
        }
        Ok(Resume::ResyncRequired) => {
            send(
                socket,
                frame(WireEvent::ResyncRequired { position: upto.0 }),
            )
            .await
        }
        Err(e) => {
            tracing::warn!(error = %e, "resume failed");
            send(socket, close(1011, "resume_failed")).await;
            false
        }
    }
}
