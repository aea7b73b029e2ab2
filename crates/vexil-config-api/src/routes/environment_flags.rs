//! `/projects/{p}/environments/{e}/flags/{key}`: the flag exactly as SDKs receive it in
//! one environment (GET), and replacing that environment's targeting with the same shape
//! (PUT). Both carry the version as the ETag; `If-Match` with a stale version is 409.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use vexil_eval::Flag;

use super::etag;
use super::json::JsonBody;
use super::lookup;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::mutations::flags::{save_targeting, TargetingChange};
use crate::mutations::targeting::refuse_direct_write;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/projects/{project}/environments/{environment}/flags/{flag}",
        get(read).put(replace),
    )
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, flag_key)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let mut session = state.store.read().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let row = lookup::targeting(&mut *session, &flag, &environment).await?;
    Ok(with_etag(flag.sdk_flag(&row)))
}

fn with_etag(flag: Flag) -> Response {
    etag::respond(flag.version, &flag)
}

/// Fields the project owns: a PUT may repeat them (as GET returns them) but not change them.
const PROJECT_OWNED: [&str; 3] = ["variations", "clientSideAvailability", "clientSide"];

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, flag_key)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &environment_key)?;
    let if_match = etag::if_match(&headers)?;
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object (a flag)"))?;
    if let Some(unknown) = object
        .keys()
        .find(|key| !Flag::FIELDS.contains(&key.as_str()))
    {
        return Err(ApiError::invalid_field(
            unknown.clone(),
            "unknown flag field",
        ));
    }
    let targeting: Flag = super::json::decode(body.to_string().as_bytes())?;
    if object.contains_key("key") && targeting.key != flag_key {
        return Err(ApiError::invalid_field(
            "key",
            "does not match the flag in the path",
        ));
    }
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    refuse_direct_write(&caller, &environment)?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    let current = session
        .flag_environment_config_for_update(flag.id, environment.id)
        .await?
        .ok_or_else(|| ApiError::not_found("the flag has no targeting in this environment"))?;
    let current_flag = flag.sdk_flag(&current);
    etag::require_current(
        &format!("flag `{flag_key}` in environment `{environment_key}`"),
        current_flag.version,
        [
            if_match,
            object.contains_key("version").then_some(targeting.version),
        ],
    )?;
    let current_json = serde_json::to_value(&current_flag).expect("flags serialize");
    for field in PROJECT_OWNED {
        if let Some(given) = object.get(field) {
            if Some(given) != current_json.get(field) {
                return Err(ApiError::invalid_field(
                    field,
                    "is owned by the project: change it with PUT /api/v1/projects/{project}/flags/{flag}",
                ));
            }
        }
    }
    let stored = save_targeting(
        &mut *session,
        TargetingChange {
            action: "flag.replace",
            comment: String::new(),
            caller: &caller,
        },
        &project,
        &environment,
        &flag,
        &current,
        targeting,
    )
    .await?;
    session.commit().await?;
    Ok(with_etag(stored))
}
