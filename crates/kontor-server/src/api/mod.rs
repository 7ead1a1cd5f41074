//! The HTTP API under `/api/v1`: routes, the OpenAPI document, and the
//! cross-cutting layers (body limit, security headers, tracing).
//!
//! Every route is registered through `utoipa_axum::routes!`, which adds it
//! to the router and to the OpenAPI document at once, so the two cannot
//! drift apart.

pub mod accounts;
pub mod conversations;
pub mod doc;
pub mod files;
pub mod messages;
pub mod search;
pub mod system;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
use crate::ws;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kontor API",
        description = "Kontor: self-hosted, GDPR-by-design workplace messenger. \
            All errors are `{\"error\": {\"code\", \"message\"}}` with a stable code. \
            Limits: message text 16 KiB, names 100 characters, groups 1,000 members, \
            20 distinct reactions per message, 100 mentions per message, page size 1–200, \
            request body 64 KiB; failed logins 5 per account and 30 per address per 15 minutes.",
        license(name = "AGPL-3.0-or-later"),
    ),
    components(schemas(
        kontor_wire::EventFrame,
        kontor_wire::WireEvent,
        kontor_wire::requests::ClientFrame,
        crate::error::ErrorBody
    ))
)]
struct ApiDoc;

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::me, accounts::update_me))
        .routes(routes!(accounts::list_sessions))
        .routes(routes!(accounts::revoke_session))
        .routes(routes!(accounts::list_users))
        .routes(routes!(accounts::get_user))
        .routes(routes!(conversations::list, conversations::create))
        .routes(routes!(conversations::public_channels))
        .routes(routes!(conversations::leave_all))
        .routes(routes!(conversations::get, conversations::update))
        .routes(routes!(conversations::members, conversations::add_members))
        .routes(routes!(conversations::remove_member))
        .routes(routes!(conversations::set_role))
        .routes(routes!(conversations::join))
        .routes(routes!(conversations::typing))
        .routes(routes!(messages::history, messages::send))
        .routes(routes!(messages::get, messages::edit, messages::delete))
        .routes(routes!(messages::add_reaction, messages::remove_reaction))
        .routes(routes!(messages::mark_read))
        .routes(routes!(search::search))
        .routes(routes!(files::upload))
        .routes(routes!(files::download, files::delete))
        .routes(routes!(ws::events))
        .routes(routes!(system::limits))
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
}

/// The OpenAPI document, as served at `/api/v1/openapi.json`.
pub fn openapi() -> OpenApiDoc {
    let mut doc = api_routes().split_for_parts().1;
    doc::finish(&mut doc);
    doc
}

/// Sent with every response: the web client loads nothing from anywhere
/// but this server and runs no inline script. Images and media may also
/// come from `blob:` URLs, which only the page itself can create: the
/// client fetches attachments with its session and shows them from there.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' blob:; \
    media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The complete router with its layers.
pub fn router(state: AppState) -> Router {
    let (router, mut doc) = api_routes().split_for_parts();
    doc::finish(&mut doc);
    let doc_json = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || system::openapi_json(doc_json.clone())),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ));
    // Switched off, `/metrics` is an unknown route, not a page of the web client.
    let router = if state.config.metrics.enabled {
        router.route("/metrics", axum::routing::get(crate::metrics::serve))
    } else {
        router.route(
            "/metrics",
            axum::routing::get(|| async { crate::error::ApiError::RouteNotFound }),
        )
    };
    router
        .fallback(crate::web::serve)
        .method_not_allowed_fallback(system::method_not_allowed)
        .layer(DefaultBodyLimit::max(
            kontor_core::limits::MAX_REQUEST_BODY_BYTES,
        ))
        // File downloads set a stricter policy of their own.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            body_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// A request body that pauses longer than `server.body_timeout_seconds`
/// ends its request with 408 (the pause, not the whole upload, is bounded,
/// so a large file on a slow line still arrives).
async fn body_timeout(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let pause = std::time::Duration::from_secs(state.config.server.body_timeout_seconds.max(1));
    next.run(
        req.map(|body| axum::body::Body::new(tower_http::timeout::TimeoutBody::new(pause, body))),
    )
    .await
}
