//! Full-text search and rebuilding its index.

use kontor_core::DomainError;
use kontor_core::ids::{ConversationId, MessageId, UserId};
use kontor_core::model::{Actor, Timestamp};
use kontor_core::validate;
use kontor_storage::{ReindexStep, SearchOrder, SearchPage, SearchQuery};

use crate::error::ApiResult;
use crate::state::AppState;

/// What the caller asked for, before validation.
#[derive(Default)]
pub struct SearchSpec<'a> {
    /// The words.
    pub q: &'a str,
    /// Only in this conversation.
    pub conversation: Option<ConversationId>,
    /// Only from this sender.
    pub from: Option<UserId>,
    /// RFC 3339 lower bound (inclusive).
    pub since: Option<&'a str>,
    /// RFC 3339 upper bound (exclusive).
    pub until: Option<&'a str>,
    /// Only messages with files.
    pub has_file: bool,
    /// `relevance` or `date`.
    pub sort: Option<&'a str>,
    /// Page size.
    pub limit: Option<u32>,
    /// Hits to skip.
    pub offset: Option<u32>,
}

fn time(field: &'static str, raw: Option<&str>) -> ApiResult<Option<Timestamp>> {
    raw.map(|s| {
        kontor_wire::parse_time(s).ok_or_else(|| {
            DomainError::invalid(
                field,
                "must be an RFC 3339 time such as 2026-12-01T08:00:00Z",
            )
            .into()
        })
    })
    .transpose()
}

/// Search the messages the caller may read.
pub async fn search(state: &AppState, actor: Actor, spec: SearchSpec<'_>) -> ApiResult<SearchPage> {
    let text = validate::search_query(spec.q)?.to_owned();
    let (limit, offset) = validate::search_page(spec.limit, spec.offset)?;
    let order = match spec.sort {
        None | Some("relevance") => SearchOrder::Relevance,
        Some("date") => SearchOrder::Newest,
        Some(_) => {
            return Err(DomainError::invalid("sort", "must be relevance or date").into());
        }
    };
    let query = SearchQuery {
        text,
        conversation: spec.conversation,
        from: spec.from,
        since: time("since", spec.since)?,
        until: time("until", spec.until)?,
        has_file: spec.has_file,
        order,
        limit,
        offset,
    };
    Ok(state.store.search(actor, query).await?)
}

/// One step of rebuilding the search index (see
/// [`kontor_storage::Storage::reindex_step`]).
pub async fn reindex_step(state: &AppState, after: Option<MessageId>) -> ApiResult<ReindexStep> {
    Ok(state
        .store
        .reindex_step(after, kontor_storage::sqlite::REINDEX_BATCH)
        .await?)
}
