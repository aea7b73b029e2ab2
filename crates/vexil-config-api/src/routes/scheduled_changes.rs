//! `/projects/{p}/flags/{key}/scheduled-changes`: instructions applied at a given time,
//! exactly once across replicas (see `scheduler.rs`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::json::JsonBody;
use super::lookup;
use crate::audit::AuditRecord;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::instructions::{apply_flag_instructions, FlagInstruction};
use crate::mutations::targeting::refuse_direct_write;
use crate::state::AppState;
use crate::store::params::NewChange;
use crate::store::rows::ScheduledChange;
use crate::views::json;

const BASE: &str = "/projects/{project}/flags/{flag}/scheduled-changes";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(&format!("{BASE}/{{change}}"), delete(cancel))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewScheduledChange {
    environment_key: String,
    #[serde(with = "time::serde::rfc3339")]
    execute_at: OffsetDateTime,
    #[serde(default)]
    comment: String,
    instructions: Vec<FlagInstruction>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewScheduledChange>,
) -> ApiResult<(StatusCode, Json<ScheduledChange>)> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &body.environment_key)?;
    if body.instructions.is_empty() {
        return Err(ApiError::invalid_field("instructions", "must not be empty"));
    }
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &body.environment_key).await?;
    // Scheduling a change is making it: critical environments need the same right.
    refuse_direct_write(&caller, &environment)?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    // Instructions that cannot apply to the flag as it is now are refused early; they are
    // applied (and validated) again against the flag as it is at `executeAt`.
    let current = lookup::targeting(&mut *session, &flag, &environment).await?;
    apply_flag_instructions(&flag.sdk_flag(&current), &body.instructions, &mut || {
        Uuid::new_v4().to_string()
    })
    .map_err(|error| {
        ApiError::invalid_field(
            format!("instructions[{}]", error.index),
            format!("{} ({})", error.reason, error.kind),
        )
    })?;
    let instructions = serde_json::to_value(&body.instructions).expect("instructions serialize");
    let id = session
        .insert_scheduled_change(&NewChange {
            flag_id: flag.id,
            environment_id: environment.id,
            execute_at: body.execute_at,
            instructions: &instructions,
            comment: &body.comment,
            created_by_token_id: caller.actor.token_id,
            created_by_name: &caller.actor.name,
        })
        .await?;
    let change = session
        .list_scheduled_changes(flag.id)
        .await?
        .into_iter()
        .find(|change| change.id == id)
        .expect("the change was inserted in this transaction");
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "scheduled_change.create",
                resource: format!("projects/{project_key}/flags/{flag_key}/scheduled-changes/{id}"),
                project_key: Some(project_key.clone()),
                environment_key: Some(environment.key.clone()),
                flag_key: Some(flag_key.clone()),
                after: Some(json(&change)),
                comment: body.comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok((StatusCode::CREATED, Json(change)))
}

#[derive(Serialize)]
struct ChangeList {
    items: Vec<ScheduledChange>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
) -> ApiResult<Json<ChangeList>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let mut session = state.store.read().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let items = session
        .list_scheduled_changes(flag.id)
        .await?
        .into_iter()
        .filter(|change| caller.actor.can_see_environment(&change.environment_key))
        .collect();
    Ok(Json(ChangeList { items }))
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key, id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    caller.actor.require_project(Role::Writer, &project_key)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no scheduled change `{id}`: ids are UUIDs")))?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let change = session
        .list_scheduled_changes(flag.id)
        .await?
        .into_iter()
        .find(|change| change.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no scheduled change `{id}`")))?;
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &change.environment_key)?;
    match session
        .cancel_scheduled_change(flag.id, id)
        .await?
        .as_deref()
    {
        None => return Err(ApiError::not_found(format!("no scheduled change `{id}`"))),
        Some("pending") => {}
        Some(status) => {
            return Err(ApiError::conflict(format!(
                "scheduled change `{id}` is {status}, only pending changes are cancelled"
            )))
        }
    }
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "scheduled_change.cancel",
                resource: format!("projects/{project_key}/flags/{flag_key}/scheduled-changes/{id}"),
                project_key: Some(project_key.clone()),
                flag_key: Some(flag_key.clone()),
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
