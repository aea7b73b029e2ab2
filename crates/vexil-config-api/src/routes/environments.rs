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
use crate::store::audit;
use crate::store::credentials;
use crate::store::environments;
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
    let mut connection = state.pool.acquire().await?;
    let project = lookup::project(&mut connection, &project_key).await?;
    let items = environments::list(&mut connection, project.id)
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
    let mut transaction = state.pool.begin().await?;
    let project = lookup::project(&mut transaction, &project_key).await?;
    let (environment, keys) = mutations::create(
        &mut transaction,
        &caller,
        &project,
        &body.key,
        &body.name,
        body.critical,
    )
    .await?;
    transaction.commit().await?;
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
    let mut connection = state.pool.acquire().await?;
    let (_, environment) =
        lookup::project_environment(&mut connection, &project_key, &environment_key).await?;
    let keys = credentials::list(&mut connection, environment.id).await?;
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
    let mut transaction = state.pool.begin().await?;
    let project = lookup::project(&mut transaction, &project_key).await?;
    let before = lookup::environment(&mut transaction, &project, &environment_key).await?;
    let name = body.name.unwrap_or_else(|| before.name.clone());
    require_name(&name)?;
    let after = environments::update(
        &mut transaction,
        before.id,
        &name,
        body.critical.unwrap_or(before.is_critical),
    )
    .await?;
    audit::append(
        &mut transaction,
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
    transaction.commit().await?;
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
    let mut transaction = state.pool.begin().await?;
    let (project, environment) =
        lookup::project_environment(&mut transaction, &project_key, &environment_key).await?;
    mutations::delete(&mut transaction, &caller, &project, &environment).await?;
    transaction.commit().await?;
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
    let mut transaction = state.pool.begin().await?;
    let (project, environment) =
        lookup::project_environment(&mut transaction, &project_key, &environment_key).await?;
    let issued = mutations::rotate_key(
        &mut transaction,
        &caller,
        &project,
        &environment,
        kind,
        rotation.old_key_expires_at,
    )
    .await?;
    transaction.commit().await?;
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
    let mut transaction = state.pool.begin().await?;
    let (project, environment) =
        lookup::project_environment(&mut transaction, &project_key, &environment_key).await?;
    let credential =
        mutations::revoke_key(&mut transaction, &caller, &project, &environment, key_id).await?;
    transaction.commit().await?;
    Ok(Json(credential))
}
