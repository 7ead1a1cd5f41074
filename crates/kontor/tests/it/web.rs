//! The embedded web client: served at `/` with the security headers, its
//! files with the right types, client routes falling back to the shell,
//! and static checks that it loads nothing from elsewhere and never
//! inserts HTML.

use crate::common;

use std::path::{Path, PathBuf};

use common::TestServer;

const CSP: &str = "default-src 'self'; img-src 'self' blob:; media-src 'self' blob:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("web dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test]
async fn shell_and_assets_are_served_with_security_headers() {
    let srv = TestServer::start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(format!("{}/", srv.url))
        .send()
        .await
        .expect("get /");
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-security-policy"], CSP);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let html = resp.text().await.expect("html");
    assert!(
        html.contains(r#"<script type="module" src="/js/app.js">"#),
        "{html}"
    );

    for (path, ty) in [
        ("/style.css", "text/css"),
        ("/js/app.js", "text/javascript"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/icon.svg", "image/svg+xml"),
    ] {
        let r = http
            .get(format!("{}{path}", srv.url))
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
        assert!(
            ct.starts_with(ty)
                || (ty == "text/javascript" && ct.starts_with("application/javascript")),
            "{path}: {ct}"
        );
        assert_eq!(r.headers()["content-security-policy"], CSP, "{path}");
        assert!(r.headers().contains_key("etag"));
    }
    // Client-side routes get the shell; missing files and API paths get JSON errors.
    let r = http
        .get(format!("{}/conversations/12", srv.url))
        .send()
        .await
        .expect("route");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("body").contains("/js/app.js"));
    for (method, path, status, code) in [
        (
            reqwest::Method::GET,
            "/js/missing.js",
            404,
            "route_not_found",
        ),
        (reqwest::Method::GET, "/api/v1/nope", 404, "route_not_found"),
        (reqwest::Method::POST, "/", 405, "method_not_allowed"),
    ] {
        let r = http
            .request(method, format!("{}{path}", srv.url))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers()["content-security-policy"], CSP);
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], code);
    }
    let r = http
        .get(format!("{}/api/v1/limits", srv.url))
        .send()
        .await
        .expect("api");
    assert_eq!(r.headers()["content-security-policy"], CSP);
}

#[test]
fn web_client_loads_nothing_from_elsewhere_and_never_injects_html() {
    let mut all = Vec::new();
    files(&web_dir(), &mut all);
    let shell = [
        "index.html",
        "style.css",
        "js/app.js",
        "sw.js",
        "manifest.webmanifest",
        "icon.svg",
    ];
    for f in shell {
        assert!(web_dir().join(f).exists(), "web/{f} missing");
    }
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.display().to_string();
        let lower = text.to_lowercase();
        for banned in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "url(\"http",
            "url('http",
            "@import",
            "from \"http",
            "from 'http",
            "import(\"http",
            "//cdn",
            "fonts.googleapis",
        ] {
            assert!(
                !lower.contains(banned),
                "{name} references another origin ({banned})"
            );
        }
        if name.ends_with(".js") {
            for banned in [
                "innerhtml",
                "outerhtml",
                "insertadjacenthtml",
                "document.write",
                "eval(",
                "new function(",
            ] {
                assert!(!lower.contains(banned), "{name} uses {banned}");
            }
        }
        if name.ends_with(".html") {
            for (i, _) in lower.match_indices("<script") {
                let tag_end = lower[i..].find('>').map_or(lower.len(), |e| i + e);
                assert!(
                    lower[i..tag_end].contains("src="),
                    "{name}: inline <script>"
                );
            }
            assert!(
                !lower.contains(" onclick=")
                    && !lower.contains(" onload=")
                    && !lower.contains(" style="),
                "{name}: inline handler or style"
            );
        }
    }
}
