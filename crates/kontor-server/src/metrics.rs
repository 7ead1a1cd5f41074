//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format
//! (which Prometheus scrapes natively): with a token to whoever sends it,
//! without one to this host only unless `metrics.public` says otherwise.
//!
//! Counters and histograms are updated where things happen (the request
//! layer, the commit sink); gauges are read from the hub and the storage
//! machinery when scraped, so a scrape costs no database round trip and
//! nothing is sampled in between.

use std::time::Instant;

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};

use kontor_core::DomainError;

use crate::error::ApiError;
use crate::state::AppState;

/// A finished request: which route, how it ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// HTTP method.
    pub method: String,
    /// The route template (`/api/v1/messages/{id}`), never the raw path,
    /// so ids do not multiply the series.
    pub route: String,
    /// Response status.
    pub status: u16,
}

/// A route, for its latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// HTTP method.
    pub method: String,
    /// The route template.
    pub route: String,
}

/// Why the server closed an event socket.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseLabels {
    /// The close frame's reason text (`slow_consumer`, `idle_timeout`, …).
    pub reason: &'static str,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Events committed and handed to live delivery.
    pub events: Counter,
    socket_closes: Family<CloseLabels, Counter>,
    connections: Gauge,
    write_queue: Gauge,
    write_queue_capacity: Gauge,
    reads_busy: Gauge,
    read_connections: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every metric registered and at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("kontor");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let request_seconds =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time from request to response head, by route",
            request_seconds.clone(),
        );
        let events = Counter::default();
        registry.register(
            "events",
            "Events committed to the event log and handed to live delivery",
            events.clone(),
        );
        let socket_closes = Family::<CloseLabels, Counter>::default();
        registry.register(
            "websocket_closes",
            "Event sockets the server closed, by the close frame's reason",
            socket_closes.clone(),
        );
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let connections = gauge(
            &mut registry,
            "websocket_connections",
            "Authenticated event sockets on this node",
        );
        let write_queue = gauge(
            &mut registry,
            "storage_write_queue",
            "Write jobs waiting for the storage writer",
        );
        let write_queue_capacity = gauge(
            &mut registry,
            "storage_write_queue_capacity",
            "Write jobs that may wait before senders are held back",
        );
        let reads_busy = gauge(
            &mut registry,
            "storage_read_connections_busy",
            "Database read connections in use",
        );
        let read_connections = gauge(
            &mut registry,
            "storage_read_connections",
            "Database read connections in the pool",
        );
        Metrics {
            registry,
            requests,
            request_seconds,
            events,
            socket_closes,
            connections,
            write_queue,
            write_queue_capacity,
            reads_busy,
            read_connections,
        }
    }

    /// Count one answered request.
    pub fn observe(&self, route: RouteLabels, status: u16, seconds: f64) {
        self.request_seconds.get_or_create(&route).observe(seconds);
        let RouteLabels { method, route } = route;
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status,
            })
            .inc();
    }

    /// Count one socket the server closed. A rising `slow_consumer` count
    /// tells an operator that clients cannot keep up with the traffic.
    pub fn socket_closed(&self, reason: &'static str) {
        self.socket_closes
            .get_or_create(&CloseLabels { reason })
            .inc();
    }

    /// Everything, in the Prometheus text format, gauges read now.
    pub fn render(&self, state: &AppState) -> String {
        let gauge = |g: &Gauge, v: usize| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(&self.connections, state.hub.connection_count());
        let storage = state.store.stats();
        gauge(&self.write_queue, storage.write_queue);
        gauge(&self.write_queue_capacity, storage.write_queue_capacity);
        gauge(&self.reads_busy, storage.reads_busy);
        gauge(&self.read_connections, storage.read_connections);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Route layer: time every routed request and count it by route and status.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let labels = RouteLabels {
        method: req.method().as_str().to_owned(),
        route: req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned()),
    };
    let response = next.run(req).await;
    state.metrics.observe(
        labels,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Headers a reverse proxy adds. A proxy on the same host reaches us from
/// a loopback address, so a request carrying one of them came from
/// somewhere else and is not a local scrape.
const FORWARDING_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Whether a scrape without a token may be answered: with
/// `metrics.public`, always; otherwise only from this host (a loopback
/// peer that no proxy forwarded).
pub fn local_scrape(peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    peer.is_some_and(|ip| ip.to_canonical().is_loopback())
        && FORWARDING_HEADERS.iter().all(|h| !headers.contains_key(*h))
}

/// The TCP peer's address (every connection carries it; see `serve` in lib.rs).
fn peer(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// `GET /metrics`: behind `Authorization: Bearer <metrics.token>` when a
/// token is configured; without one, for this host only (see
/// [`local_scrape`]) unless `metrics.public` is set.
pub async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let config = &state.config.metrics;
    let token = &config.token;
    if !token.is_empty() {
        let expected = format!("Bearer {token}");
        let given = headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        // Comparing digests keeps the comparison's timing independent of
        // how much of the token was right.
        if Sha256::digest(given) != Sha256::digest(expected.as_bytes()) {
            return ApiError::Unauthenticated.into_response();
        }
    } else if !config.public && !local_scrape(peer(&request), &headers) {
        return ApiError::Domain(DomainError::Forbidden(
            "without metrics.token, /metrics answers only this host; \
             set metrics.token (or metrics.public = true) to scrape it from elsewhere"
                .into(),
        ))
        .into_response();
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            // What prometheus-client's text encoder writes.
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unforwarded_loopback_scrapes_count_as_local() {
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let none = HeaderMap::new();
        assert!(local_scrape(ip("127.0.0.1"), &none));
        assert!(local_scrape(ip("::1"), &none));
        assert!(local_scrape(ip("::ffff:127.0.0.1"), &none));
        assert!(!local_scrape(ip("192.0.2.10"), &none));
        assert!(!local_scrape(ip("10.0.0.1"), &none));
        assert!(!local_scrape(None, &none));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        assert!(!local_scrape(ip("127.0.0.1"), &proxied));
    }
}
