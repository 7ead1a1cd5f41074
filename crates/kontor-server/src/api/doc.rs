//! Finishing touches on the OpenAPI document that hold for every
//! operation, so no handler can forget them: the bearer security scheme
//! (with the few public operations exempt) and the error responses the
//! shared extractors and layers can produce.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// Operations that need no session.
const PUBLIC: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/limits",
    "/healthz",
    "/readyz",
    "/api/v1/events",
];

/// Add the security scheme and the common error responses.
pub fn finish(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "Session token from /api/v1/auth/login, or the kontor_session cookie",
                ))
                .build(),
        ),
    );
    doc.security = Some(vec![SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let public = PUBLIC.contains(&path.as_str());
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_common_errors(op, public);
        }
    }
}

fn add_common_errors(op: &mut Operation, public: bool) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path = params.iter().any(|p| match p {
        RefOr::T(p) => p.parameter_in == ParameterIn::Path,
        RefOr::Ref(_) => false,
    });
    let has_body = op.request_body.is_some();
    let mut add = |code: &str, description: &str| {
        op.responses
            .responses
            .entry(code.to_owned())
            .or_insert_with(|| error_response(description));
    };
    if has_body || !params.is_empty() {
        add(
            "400",
            "Malformed JSON, path, query or body (`malformed_json`, `invalid_path`, `invalid_query`, `unreadable_body`)",
        );
        add(
            "422",
            "Well-formed but invalid input (`invalid_body`, `invalid_input`, `limit_exceeded`)",
        );
    }
    if has_body {
        add("413", "Request body over the limit (`payload_too_large`)");
        add(
            "415",
            "Body not sent as application/json (`unsupported_media_type`)",
        );
    }
    if has_path {
        add("404", "Not found, or not visible to you (`not_found`)");
    }
    if public {
        op.security = Some(vec![SecurityRequirement::default()]);
    } else {
        add("401", "No valid session (`unauthenticated`)");
    }
    add(
        "503",
        "Storage temporarily unavailable (`unavailable`); retry",
    );
}

fn error_response(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".to_owned(),
        RefOr::T(Content::new(Some(Ref::from_schema_name("ErrorBody")))),
    );
    RefOr::T(response)
}
