//! Full-text search.

use axum::extract::State;
use kontor_core::ids::{ConversationId, UserId};

use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Query};
use crate::service::search::{self, SearchSpec};
use crate::state::AppState;
use kontor_wire as wire;
use kontor_wire::requests::{SearchHit, SearchParams, SearchResponse, SnippetPart};

/// Search the messages of your conversations, in German and English word
/// forms and German compounds; hits come with highlighted snippets.
#[utoipa::path(get, path = "/api/v1/search", tag = "messages", security(("bearer" = [])),
    params(SearchParams),
    responses((status = 200, body = SearchResponse), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<SearchResponse>> {
    let spec = SearchSpec {
        q: &p.q,
        conversation: p.conversation_id.map(ConversationId),
        from: p.from.map(UserId),
        since: p.since.as_deref(),
        until: p.until.as_deref(),
        has_file: p.has_file,
        sort: p.sort.as_deref(),
        limit: p.limit,
        offset: p.offset,
    };
    let page = search::search(&state, auth.user.actor(), spec).await?;
    Ok(Json(SearchResponse {
        hits: page
            .hits
            .iter()
            .map(|h| SearchHit {
                message: wire::Message::from(&h.message),
                snippet: h
                    .snippet
                    .iter()
                    .map(|p| SnippetPart {
                        text: p.text.clone(),
                        hit: p.hit,
                    })
                    .collect(),
            })
            .collect(),
        has_more: page.has_more,
    }))
}
