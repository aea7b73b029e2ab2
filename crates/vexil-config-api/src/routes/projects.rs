//! `/projects` and `/projects/{p}`. A new project gets `production` (critical) and `test`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::json::JsonBody;
use super::lookup;
use crate::audit::AuditRecord;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::mutations::environments::{self as environment_mutations, IssuedCredential};
use crate::mutations::validation;
use crate::state::AppState;
use crate::store::rows::{Environment, Project};
use crate::views::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route(
            "/projects/{project}",
            get(read).patch(update).delete(remove),
        )
}

#[derive(Serialize)]
struct ProjectList {
    items: Vec<Project>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ProjectList>> {
    caller.actor.require(Role::Reader)?;
    let items = state
        .store
        .read()
        .await?
        .list_projects()
        .await?
        .into_iter()
        .filter(|project| caller.actor.can_see_project(&project.key))
        .collect();
    Ok(Json(ProjectList { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    key: String,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedProject {
    #[serde(flatten)]
    project: Project,
    environments: Vec<CreatedEnvironment>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CreatedEnvironment {
    #[serde(flatten)]
    pub environment: Environment,
    /// The new credentials with their secrets, shown only in this response.
    pub keys: Vec<IssuedCredential>,
}

/// The environments every new project starts with: (key, name, critical).
const DEFAULT_ENVIRONMENTS: [(&str, &str, bool); 2] =
    [("production", "Production", true), ("test", "Test", false)];

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewProject>,
) -> ApiResult<(StatusCode, Json<CreatedProject>)> {
    caller.actor.require(Role::Admin)?;
    if caller.actor.project_keys.is_some() {
        return Err(ApiError::forbidden(format!(
            "token `{}` is scoped to projects and cannot create new ones",
            caller.actor.name
        )));
    }
    validation::key("key", &body.key)?;
    require_name(&body.name)?;
    let mut session = state.store.write().await?;
    let project = session
        .insert_project(&body.key, &body.name, &body.description, &body.tags)
        .await?
        .ok_or_else(|| ApiError::conflict(format!("a project `{}` already exists", body.key)))?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "project.create",
                resource: format!("projects/{}", project.key),
                project_key: Some(project.key.clone()),
                after: Some(json(&project)),
                ..AuditRecord::default()
            },
        )
        .await?;
    let mut environments = Vec::new();
    for (key, name, is_critical) in DEFAULT_ENVIRONMENTS {
        let (environment, keys) =
            environment_mutations::create(&mut *session, &caller, &project, key, name, is_critical)
                .await?;
        environments.push(CreatedEnvironment { environment, keys });
    }
    session.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedProject {
            project,
            environments,
        }),
    ))
}

pub(super) fn require_name(name: &str) -> ApiResult<()> {
    if name.trim().is_empty() || name.len() > 256 {
        Err(ApiError::invalid_field(
            "name",
            "must be 1 to 256 characters, not only spaces",
        ))
    } else {
        Ok(())
    }
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
) -> ApiResult<Json<Project>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let mut session = state.store.read().await?;
    Ok(Json(lookup::project(&mut *session, &project_key).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectUpdate {
    name: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
    JsonBody(body): JsonBody<ProjectUpdate>,
) -> ApiResult<Json<Project>> {
    caller.actor.require_project(Role::Admin, &project_key)?;
    let mut session = state.store.write().await?;
    let before = lookup::project(&mut *session, &project_key).await?;
    let name = body.name.unwrap_or_else(|| before.name.clone());
    require_name(&name)?;
    let after = session
        .update_project(
            before.id,
            &name,
            body.description.as_deref().unwrap_or(&before.description),
            body.tags.as_deref().unwrap_or(&before.tags),
        )
        .await?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "project.update",
                resource: format!("projects/{project_key}"),
                project_key: Some(project_key.clone()),
                before: Some(json(&before)),
                after: Some(json(&after)),
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok(Json(after))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
) -> ApiResult<StatusCode> {
    caller.actor.require_project(Role::Admin, &project_key)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let environments = session.list_environments(project.id).await?;
    for environment in &environments {
        environment_mutations::delete(&mut *session, &caller, &project, environment).await?;
    }
    session.delete_project(project.id).await?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "project.delete",
                resource: format!("projects/{project_key}"),
                project_key: Some(project_key.clone()),
                before: Some(json(&project)),
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
