//! `/audit-log` (newest first, filtered) and `/audit-log/verify` (re-checks the chain).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{AuditEntry, Verification};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::params::AuditFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit-log", get(list))
        .route("/audit-log/verify", get(verify))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListQuery {
    project: Option<String>,
    environment: Option<String>,
    flag: Option<String>,
    /// Actor name.
    actor: Option<String>,
    actor_token_id: Option<Uuid>,
    /// Entries at or after this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    after: Option<OffsetDateTime>,
    /// Entries before this time (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    before: Option<OffsetDateTime>,
    /// Paging: entries older than this sequence number (`nextBeforeSequence`).
    before_sequence: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditPage {
    items: Vec<AuditEntry>,
    /// Pass as `beforeSequence` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_before_sequence: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AuditPage>> {
    caller.actor.require(Role::Reader)?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let limit = super::page_limit(query.limit)?;
    let project_keys = narrow(
        query.project,
        caller.actor.project_keys.clone(),
        "project",
        &caller,
    )?;
    let environment_keys = narrow(
        query.environment,
        caller.actor.environment_keys.clone(),
        "environment",
        &caller,
    )?;
    let filter = AuditFilter {
        project_keys,
        environment_keys,
        flag_key: query.flag,
        actor_name: query.actor,
        actor_token_id: query.actor_token_id,
        after: query.after,
        before: query.before,
        before_sequence: query.before_sequence,
        limit,
    };
    state.store.flush().await;
    let items = state.store.read().await?.list_audit(&filter).await?;
    let next_before_sequence = if items.len() as i64 == limit {
        items.last().map(|entry| entry.sequence)
    } else {
        None
    };
    Ok(Json(AuditPage {
        items,
        next_before_sequence,
    }))
}

/// The keys to filter on: the requested one, within the token's scope.
fn narrow(
    requested: Option<String>,
    scope: Option<Vec<String>>,
    what: &str,
    caller: &Caller,
) -> ApiResult<Option<Vec<String>>> {
    match (requested, scope) {
        (Some(key), Some(scope)) if !scope.contains(&key) => Err(ApiError::forbidden(format!(
            "token `{}` is not scoped to {what} `{key}`",
            caller.actor.name
        ))),
        (Some(key), _) => Ok(Some(vec![key])),
        (None, scope) => Ok(scope),
    }
}

async fn verify(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Verification>> {
    caller.actor.require(Role::Reader)?;
    state.store.flush().await;
    Ok(Json(state.store.read().await?.verify_audit().await?))
}
