//! The accept loop: who may hold a connection, and for how long a
//! connection may keep the server waiting.
//!
//! Every connection takes a slot, counted in all and per client address,
//! for as long as its socket is open, a WebSocket after the upgrade
//! included (the slot travels with the socket). Beyond the caps a new
//! connection is closed at once, so one address cannot hold the server's
//! file descriptors (slowloris). A connection must send its request head
//! within `server.header_timeout_seconds`; a request body that stops
//! arriving for `server.body_timeout_seconds` ends the request
//! (`api::router` applies that one). Connections speak HTTP/1.1, the
//! protocol reverse proxies use towards their upstream.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::config::ServerConfig;

/// Pause after a failed `accept` (for example when file descriptors run
/// out), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);

/// The connection caps.
#[derive(Clone, Debug)]
pub struct Caps {
    /// Connections open at once, in all.
    pub total: usize,
    /// Connections open at once from one address (reverse proxies in
    /// `server.trusted_proxies` are exempt: every user arrives through them).
    pub per_address: usize,
    /// Exempt from `per_address`.
    pub exempt: Vec<ipnet::IpNet>,
}

impl Caps {
    /// The caps the configuration sets.
    pub fn from_config(c: &ServerConfig) -> Caps {
        Caps {
            total: c.max_connections,
            per_address: c.max_connections_per_address,
            exempt: c.trusted_proxies.clone(),
        }
    }
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Open connections, shared by the loop and every connection's slot.
#[derive(Clone)]
pub struct Connections {
    caps: Arc<Caps>,
    open: Arc<Mutex<Open>>,
}

/// One connection's place; given back when the socket closes.
pub struct Slot {
    connections: Connections,
    address: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.connections.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

impl Connections {
    /// No connections yet, under `caps`.
    pub fn new(caps: Caps) -> Connections {
        Connections {
            caps: Arc::new(caps),
            open: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for a connection from `address`, if the caps allow one.
    pub fn admit(&self, address: IpAddr) -> Option<Slot> {
        let mut open = self.lock();
        if open.total >= self.caps.total {
            return None;
        }
        let exempt = self.caps.exempt.iter().any(|net| net.contains(&address));
        let from_there = open.by_address.get(&address).copied().unwrap_or(0);
        if !exempt && from_there >= self.caps.per_address {
            return None;
        }
        open.total += 1;
        *open.by_address.entry(address).or_insert(0) += 1;
        Some(Slot {
            connections: self.clone(),
            address,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }
}

/// A socket that holds its connection's slot: the slot lives as long as
/// the socket, through a WebSocket upgrade.
struct Counted {
    stream: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Serve `app` on `listener` until `shutdown` resolves; then stop
/// accepting, let every connection finish its request (idle ones close at
/// once) and return when all are closed. The caller bounds that wait.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    connections: Connections,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    let tasks = TaskTracker::new();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Some(slot) = connections.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: too many open");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(req)
        });
        let conn = http.serve_connection(io, service).with_upgrades();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = stop.wait_for(|s| *s) => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    tasks.close();
    tasks.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(total: usize, per_address: usize, exempt: &[&str]) -> Connections {
        Connections::new(Caps {
            total,
            per_address,
            exempt: exempt
                .iter()
                .map(|n| n.parse().expect("a network"))
                .collect(),
        })
    }

    #[test]
    fn caps_count_per_address_and_in_all_and_slots_give_back() {
        let c = caps(3, 2, &["10.0.0.0/8"]);
        let (a, b, proxy): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("ip"),
            "192.0.2.2".parse().expect("ip"),
            "10.1.2.3".parse().expect("ip"),
        );
        let first = c.admit(a).expect("1st from a");
        let _second = c.admit(a).expect("2nd from a");
        assert!(c.admit(a).is_none(), "a third from one address");
        let _other = c.admit(b).expect("another address");
        assert!(c.admit(b).is_none(), "the total is reached");
        drop(first);
        assert_eq!(c.open(), 2);
        let _again = c.admit(a).expect("a slot came back");
        let c = caps(10, 1, &["10.0.0.0/8"]);
        let _p1 = c.admit(proxy).expect("proxy");
        let _p2 = c
            .admit(proxy)
            .expect("a trusted proxy is exempt per address");
    }
}
