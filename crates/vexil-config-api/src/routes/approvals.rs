//! `/projects/{p}/flags/{key}/approval-requests`: changes to a flag in an environment
//! (critical ones need this) proposed with instructions, reviewed by a different token,
//! then applied, re-validated against the flag as it is then.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::json::JsonBody;
use super::lookup;
use crate::audit::AuditRecord;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::instructions::FlagInstruction;
use crate::mutations::targeting::apply_instructions;
use crate::state::AppState;
use crate::store::params::NewRequest;
use crate::store::rows::{ApprovalRequest, Environment, FlagRow, Project};
use crate::store::ConfigWrite;
use crate::views::json;

const BASE: &str = "/projects/{project}/flags/{flag}/approval-requests";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(&format!("{BASE}/{{request}}/review"), post(review))
        .route(&format!("{BASE}/{{request}}/apply"), post(apply))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewApprovalRequest {
    environment_key: String,
    #[serde(default)]
    comment: String,
    instructions: Vec<FlagInstruction>,
}

/// Instructions are stored as the JSON they arrived as and decoded again when applied.
fn decode_instructions(value: &Value) -> ApiResult<Vec<FlagInstruction>> {
    serde_json::from_value(value.clone()).map_err(|error| {
        ApiError::internal(
            anyhow::Error::new(error).context("stored instructions no longer decode"),
        )
    })
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<NewApprovalRequest>,
) -> ApiResult<(StatusCode, Json<ApprovalRequest>)> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &body.environment_key)?;
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &body.environment_key).await?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    dry_run(
        &mut *session,
        &caller,
        &project,
        &environment,
        &flag,
        &body.instructions,
    )
    .await?;
    let instructions = serde_json::to_value(&body.instructions).expect("instructions serialize");
    let id = session
        .insert_approval(&NewRequest {
            flag_id: flag.id,
            environment_id: environment.id,
            instructions: &instructions,
            comment: &body.comment,
            requested_by_token_id: caller.actor.token_id,
            requested_by_name: &caller.actor.name,
        })
        .await?;
    let request = find(&mut *session, &flag, id).await?;
    record(
        &mut *session,
        &caller,
        "approval.create",
        &project,
        &request,
        body.comment,
    )
    .await?;
    session.commit().await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// Applies the instructions in a savepoint that is rolled back, so a request that could
/// not be applied now is refused with the same errors a direct change would get.
async fn dry_run(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    flag: &FlagRow,
    instructions: &[FlagInstruction],
) -> ApiResult<()> {
    session.savepoint().await?;
    let outcome = apply_instructions(
        &mut *session,
        caller,
        project,
        environment,
        flag,
        instructions,
        "flag.dry_run",
        String::new(),
    )
    .await;
    session.rollback_to_savepoint().await?;
    outcome.map(|_| ())
}

async fn find(
    session: &mut dyn ConfigWrite,
    flag: &FlagRow,
    id: Uuid,
) -> ApiResult<ApprovalRequest> {
    session
        .find_approval_for_update(flag.id, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no approval request `{id}` for flag `{}`",
                flag.key
            ))
        })
}

async fn record(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    action: &'static str,
    project: &Project,
    request: &ApprovalRequest,
    comment: String,
) -> ApiResult<()> {
    session
        .append_audit(
            caller,
            AuditRecord {
                action,
                resource: format!(
                    "projects/{}/flags/{}/approval-requests/{}",
                    project.key, request.flag_key, request.id
                ),
                project_key: Some(project.key.clone()),
                environment_key: Some(request.environment_key.clone()),
                flag_key: Some(request.flag_key.clone()),
                after: Some(json(request)),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
}

#[derive(Serialize)]
struct RequestList {
    items: Vec<ApprovalRequest>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<RequestList>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let mut session = state.store.read().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let items = session
        .list_approvals(flag.id, query.status.as_deref())
        .await?
        .into_iter()
        .filter(|request| caller.actor.can_see_environment(&request.environment_key))
        .collect();
    Ok(Json(RequestList { items }))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Decision {
    Approve,
    Decline,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Review {
    decision: Decision,
    #[serde(default)]
    comment: String,
}

/// Parses the `{request}` path segment.
fn request_id(text: &str) -> ApiResult<Uuid> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no approval request `{text}`: ids are UUIDs")))
}

async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key, id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<Review>,
) -> ApiResult<Json<ApprovalRequest>> {
    let id = request_id(&id)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let request = find(&mut *session, &flag, id).await?;
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &request.environment_key)?;
    if request.requested_by_token_id == Some(caller.actor.token_id) {
        return Err(ApiError::forbidden(
            "a request is reviewed by a different token than the one that made it",
        ));
    }
    if request.status != "pending" {
        return Err(ApiError::conflict(format!(
            "approval request `{id}` is {}, only pending requests are reviewed",
            request.status
        )));
    }
    let (status, action) = match body.decision {
        Decision::Approve => ("approved", "approval.approve"),
        Decision::Decline => ("declined", "approval.decline"),
    };
    session
        .review_approval(
            id,
            status,
            caller.actor.token_id,
            &caller.actor.name,
            &body.comment,
        )
        .await?;
    let request = find(&mut *session, &flag, id).await?;
    record(
        &mut *session,
        &caller,
        action,
        &project,
        &request,
        body.comment,
    )
    .await?;
    session.commit().await?;
    Ok(Json(request))
}

#[derive(Serialize)]
struct Applied {
    request: ApprovalRequest,
    /// The flag as SDKs now receive it in the request's environment.
    flag: vexil_eval::Flag,
}

async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key, id)): Path<(String, String, String)>,
) -> ApiResult<Json<Applied>> {
    let id = request_id(&id)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    let request = find(&mut *session, &flag, id).await?;
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &request.environment_key)?;
    if request.status != "approved" {
        return Err(ApiError::conflict(format!(
            "approval request `{id}` is {}, only approved requests are applied",
            request.status
        )));
    }
    let environment =
        lookup::environment(&mut *session, &project, &request.environment_key).await?;
    let instructions = decode_instructions(&request.instructions)?;
    let updated = apply_instructions(
        &mut *session,
        &caller,
        &project,
        &environment,
        &flag,
        &instructions,
        "flag.apply_approval",
        request.comment.clone(),
    )
    .await?;
    session.mark_approval_applied(id).await?;
    let request = find(&mut *session, &flag, id).await?;
    record(
        &mut *session,
        &caller,
        "approval.apply",
        &project,
        &request,
        String::new(),
    )
    .await?;
    session.commit().await?;
    Ok(Json(Applied {
        request,
        flag: updated,
    }))
}
