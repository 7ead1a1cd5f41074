//! Whether a browser request comes from Kontor's own origin: the one rule
//! behind the WebSocket handshake check and the CSRF check on cookie
//! requests.
//!
//! A browser attaches cookies to requests another site makes it send
//! (forms, `fetch` with `credentials`), so a request authenticated by the
//! `kontor_session` cookie proves only that the browser holds it, not that
//! our page sent it. Browsers say who did: `Origin` on every WebSocket
//! handshake and every non-GET request (all current engines, since 2020),
//! and `Sec-Fetch-Site` on every request. A bearer token is not attached by
//! the browser on its own, so bearer requests need no such check.
//!
//! The rule:
//! - `Origin` present: it must be `server.public_url`, or, when that is
//!   unset, `http(s)://` plus the request's own `Host` (`null` never is).
//! - No `Origin`, but `Sec-Fetch-Site`: only `same-origin` and `none` (the
//!   user typed the address) pass; `same-site` and `cross-site` do not.
//! - Neither header: allowed. Only clients that are not browsers (the CLI,
//!   scripts, native apps) or browsers too old to send `Origin` on a POST
//!   do that; the first are not subject to cross-site requests at all, and
//!   refusing the second would lock out old clients for a risk the cookie
//!   path (which the web client does not use: it sends a bearer token) has
//!   only in browsers that no longer get security updates.

use axum::http::{HeaderMap, header};

use crate::config::Config;

/// `Sec-Fetch-Site`, which browsers send on every request.
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Whether `headers` come from our own origin, or from no browser page at
/// all (see the module documentation).
pub fn same_origin(config: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return match headers.get(SEC_FETCH_SITE) {
            Some(site) => matches!(site.as_bytes(), b"same-origin" | b"none"),
            None => true,
        };
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if let Some(public) = &config.server.public_url {
        return origin.eq_ignore_ascii_case(public.trim_end_matches('/'));
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|h| h.eq_ignore_ascii_case(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn own_origin_passes_and_others_do_not() {
        let mut c = Config::default();
        let host = ("host", "chat.example:8080");
        assert!(same_origin(
            &c,
            &headers(&[host, ("origin", "http://chat.example:8080")])
        ));
        for bad in ["http://evil.example", "null", "http://chat.example"] {
            assert!(
                !same_origin(&c, &headers(&[host, ("origin", bad)])),
                "{bad}"
            );
        }
        assert!(same_origin(&c, &headers(&[host])));
        assert!(same_origin(
            &c,
            &headers(&[host, ("sec-fetch-site", "same-origin")])
        ));
        assert!(!same_origin(
            &c,
            &headers(&[host, ("sec-fetch-site", "cross-site")])
        ));
        assert!(!same_origin(
            &c,
            &headers(&[host, ("sec-fetch-site", "same-site")])
        ));
        c.server.public_url = Some("https://chat.example/".into());
        assert!(same_origin(
            &c,
            &headers(&[host, ("origin", "https://chat.example")])
        ));
        assert!(!same_origin(
            &c,
            &headers(&[host, ("origin", "http://chat.example:8080")])
        ));
    }
}
