//! Extractors that answer malformed input in our error format instead of
//! axum's plain-text rejections.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;

use crate::error::ApiError;
use crate::state::AppState;

/// JSON body; malformed, mistyped or oversized bodies become [`ApiError`]s.
/// Every request body of the API is an object, so an array is refused too:
/// serde would otherwise fill a struct's fields from it by position
/// (`[true]` for `{"share_presence": true}`).
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state).await?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::InvalidBody(
                "the body must be a JSON object, not an array".into(),
            ));
        }
        let axum::Json(value) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Json(value))
    }
}

/// `application/json` or `application/<something>+json`, as axum's own
/// extractor accepts.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters; a non-numeric id becomes `invalid_path`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// Query parameters; wrong types become `invalid_query`.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The client's address, for per-address limits: the TCP peer, or, when
/// the peer is one of `server.trusted_proxies`, the nearest address in
/// `X-Forwarded-For` that is not a trusted proxy. Without trusted proxies
/// the header is ignored, so a client cannot pick its own address.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or_else(|| ApiError::Internal("the peer address is unknown".into()))?;
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.server.trusted_proxies,
        )))
    }
}

/// See [`ClientIp`]. Hops are read right to left (each proxy appends the
/// address it saw); an unparsable hop ends the walk at the last address
/// known to be genuine.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut current = peer.to_canonical();
    if !is_trusted(&current) {
        return current;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) => {
                current = ip.to_canonical();
                if !is_trusted(&current) {
                    return current;
                }
            }
            Err(_) => return current,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let h = forwarded(&["198.51.100.9, 203.0.113.7", "10.0.0.2"]);
        // Not from a trusted proxy: the header is the client's own claim.
        assert_eq!(client_ip(ip("192.0.2.1"), &h, &proxies), ip("192.0.2.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &[]), ip("10.0.0.1"));
        // From one: the nearest hop that is not a proxy; the rest is not
        // trusted (198.51.100.9 could be made up by 203.0.113.7).
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &proxies), ip("203.0.113.7"));
        // IPv4 peers seen through an IPv6 socket match IPv4 networks.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &h, &proxies),
            ip("203.0.113.7")
        );
        // Garbage stops the walk at the last genuine address.
        let bad = forwarded(&["203.0.113.7, nonsense"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &bad, &proxies), ip("10.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxies),
            ip("10.0.0.1")
        );
    }
}
