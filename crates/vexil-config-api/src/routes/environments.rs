//! `/projects/{p}/environments[/{e}]` and their SDK keys (`.../keys`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::json::{JsonBody, OptionalJsonBody};
use super::lookup;
use super::projects::{require_name, CreatedEnvironment};
use crate::audit::AuditRecord;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::mutations::environments::{self as mutations, IssuedCredential};
use crate::mutations::validation;
use crate::state::AppState;
use crate::store::kinds::CredentialKind;
use crate::store::rows::{Credential, Environment};
use crate::views::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project}/environments", get(list).post(create))
        .route(
            "/projects/{project}/environments/{environment}",
            get(read).patch(update).delete(remove),
        )
        .route(
            "/projects/{project}/environments/{environment}/keys/{kind}/rotate",
            post(rotate),
        )
        .route(
            "/projects/{project}/environments/{environment}/keys/{key_id}",
            axum::routing::delete(revoke),
        )
}

#[derive(Serialize)]
struct EnvironmentList {
    items: Vec<Environment>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
) -> ApiResult<Json<EnvironmentList>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let mut session = state.store.read().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let items = session
        .list_environments(project.id)
        .await?
        .into_iter()
        .filter(|environment| caller.actor.can_see_environment(&environment.key))
        .collect();
    Ok(Json(EnvironmentList { items }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEnvironment {
    key: String,
    name: String,
    #[serde(default)]
    critical: bool,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
    JsonBody(body): JsonBody<NewEnvironment>,
) -> ApiResult<(StatusCode, Json<CreatedEnvironment>)> {
    caller
        .actor
        .require_environment(Role::Admin, &project_key, &body.key)?;
    validation::key("key", &body.key)?;
    require_name(&body.name)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let (environment, keys) = mutations::create(
        &mut *session,
        &caller,
        &project,
        &body.key,
        &body.name,
        body.critical,
    )
    .await?;
    session.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEnvironment { environment, keys }),
    ))
}

#[derive(Serialize)]
struct EnvironmentWithKeys {
    #[serde(flatten)]
    environment: Environment,
    /// Every credential, active or not; secrets show only their last four characters.
    keys: Vec<Credential>,
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key)): Path<(String, String)>,
) -> ApiResult<Json<EnvironmentWithKeys>> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let mut session = state.store.read().await?;
    let (_, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let keys = session.list_credentials(environment.id).await?;
    Ok(Json(EnvironmentWithKeys { environment, keys }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentUpdate {
    name: Option<String>,
    critical: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<EnvironmentUpdate>,
) -> ApiResult<Json<Environment>> {
    caller
        .actor
        .require_environment(Role::Admin, &project_key, &environment_key)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let before = lookup::environment(&mut *session, &project, &environment_key).await?;
    let name = body.name.unwrap_or_else(|| before.name.clone());
    require_name(&name)?;
    let after = session
        .update_environment(
            before.id,
            &name,
            body.critical.unwrap_or(before.is_critical),
        )
        .await?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "environment.update",
                resource: mutations::resource(&project, &environment_key),
                project_key: Some(project_key.clone()),
                environment_key: Some(environment_key.clone()),
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
    Path((project_key, environment_key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller
        .actor
        .require_environment(Role::Admin, &project_key, &environment_key)?;
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    mutations::delete(&mut *session, &caller, &project, &environment).await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rotation {
    /// When the old key stops working; absent: at once.
    #[serde(default, with = "time::serde::rfc3339::option")]
    old_key_expires_at: Option<OffsetDateTime>,
}

async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, kind)): Path<(String, String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<Rotation>,
) -> ApiResult<(StatusCode, Json<IssuedCredential>)> {
    caller
        .actor
        .require_environment(Role::Admin, &project_key, &environment_key)?;
    let kind = match kind.as_str() {
        "sdk" => CredentialKind::Server,
        "mobile" => CredentialKind::Mobile,
        other => {
            return Err(ApiError::not_found(format!(
                "no key kind `{other}`: rotate `sdk` or `mobile` (the client-side ID is public and does not rotate)"
            )))
        }
    };
    let rotation = body.unwrap_or_default();
    if let Some(expiry) = rotation.old_key_expires_at {
        if expiry <= OffsetDateTime::now_utc() {
            return Err(ApiError::invalid_field(
                "oldKeyExpiresAt",
                "must be in the future; omit it to revoke the old key at once",
            ));
        }
    }
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let issued = mutations::rotate_key(
        &mut *session,
        &caller,
        &project,
        &environment,
        kind,
        rotation.old_key_expires_at,
    )
    .await?;
    session.commit().await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, key_id)): Path<(String, String, String)>,
) -> ApiResult<Json<Credential>> {
    let key_id: Uuid = key_id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no key `{key_id}`: key ids are UUIDs")))?;
    caller
        .actor
        .require_environment(Role::Admin, &project_key, &environment_key)?;
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let credential =
        mutations::revoke_key(&mut *session, &caller, &project, &environment, key_id).await?;
    session.commit().await?;
    Ok(Json(credential))
}
