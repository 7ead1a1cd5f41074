//! The live event stream: opening it and reading and writing its frames.

use futures_util::{SinkExt, StreamExt};
use kontor_wire::requests::*;
use kontor_wire::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message as WsMessage;

use crate::{Client, ClientError, ClientResult};

impl Client {
    /// Open the live event stream, resuming after `after` if given. The
    /// token goes in the `Authorization` header, never the URL.
    pub async fn events(&self, after: Option<i64>) -> ClientResult<EventStream> {
        let token = self.token.as_deref().ok_or(ClientError::NotLoggedIn)?;
        let ws_base = if let Some(rest) = self.base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            return Err(ClientError::Transport(format!(
                "unsupported URL {}",
                self.base
            )));
        };
        let url = match after {
            Some(a) => format!("{ws_base}/api/v1/events?after={a}"),
            None => format!("{ws_base}/api/v1/events"),
        };
        let mut req = url
            .into_client_request()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let auth = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        req.headers_mut().insert("authorization", auth);
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(resp) => ClientError::Api {
                    status: resp.status().as_u16(),
                    code: "handshake_refused".into(),
                    message: String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default())
                        .into_owned(),
                },
                other => ClientError::Transport(other.to_string()),
            })?;
        Ok(EventStream { ws })
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The live event stream.
pub struct EventStream {
    ws: Ws,
}

/// Why the stream ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// WebSocket close code (1006 when the connection just dropped).
    pub code: u16,
    /// The server's reason, e.g. `slow_consumer`, `session_revoked`.
    pub reason: String,
}

impl EventStream {
    /// The next frame; `Err(Closed)` when the stream ended. Pings are
    /// answered automatically.
    pub async fn next(&mut self) -> Result<EventFrame, Closed> {
        loop {
            match self.ws.next().await {
                Some(Ok(WsMessage::Text(t))) => match serde_json::from_str::<EventFrame>(&t) {
                    Ok(f) => return Ok(f),
                    Err(e) => {
                        return Err(Closed {
                            code: 1007,
                            reason: format!("unreadable frame: {e}"),
                        });
                    }
                },
                Some(Ok(WsMessage::Close(frame))) => {
                    return Err(Closed {
                        code: frame.as_ref().map_or(1005, |f| u16::from(f.code)),
                        reason: frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    });
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    return Err(Closed {
                        code: 1006,
                        reason: e.to_string(),
                    });
                }
                None => {
                    return Err(Closed {
                        code: 1006,
                        reason: "connection closed".into(),
                    });
                }
            }
        }
    }

    /// Tell the members of a conversation I am typing.
    pub async fn typing(&mut self, conversation_id: i64) -> ClientResult<()> {
        self.send_frame(&ClientFrame::Typing { conversation_id })
            .await
    }

    /// Follow these people's presence on this socket (replacing whoever
    /// it followed); answers and changes arrive as `presence` frames.
    pub async fn watch_presence(&mut self, user_ids: &[i64]) -> ClientResult<()> {
        self.send_frame(&ClientFrame::WatchPresence {
            user_ids: user_ids.to_vec(),
        })
        .await
    }

    /// Post a message over the socket instead of an HTTP request. Returns
    /// once the frame is written; the answer is a later `sent` or
    /// `send_failed` frame from [`EventStream::next`] naming `req.txn_id`.
    pub async fn send_message(
        &mut self,
        conversation_id: i64,
        req: &SendMessage,
    ) -> ClientResult<()> {
        self.send_frame(&ClientFrame::Send {
            conversation_id,
            txn_id: req.txn_id.clone(),
            text: req.text.clone(),
            thread_root_id: req.thread_root_id,
            mentions: req.mentions.clone(),
            mentions_channel: req.mentions_channel,
            attachment_ids: req.attachment_ids.clone(),
        })
        .await
    }

    /// Write one client frame.
    pub async fn send_frame(&mut self, frame: &ClientFrame) -> ClientResult<()> {
        let text =
            serde_json::to_string(frame).map_err(|e| ClientError::Transport(e.to_string()))?;
        self.send_text(&text).await
    }

    /// Write a text frame as it is, e.g. to see how a server answers a
    /// malformed one.
    pub async fn send_text(&mut self, text: &str) -> ClientResult<()> {
        self.ws
            .send(WsMessage::Text(text.to_owned().into()))
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// Close politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
