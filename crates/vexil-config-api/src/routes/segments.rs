//! `/projects/{p}/environments/{e}/segments[/{key}]`: LaunchDarkly segment JSON plus
//! `name`, `description` and `tags`. PUT replaces (with `If-Match`), PATCH takes semantic
//! instructions. Segment writes are direct in every environment (approvals cover flags).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vexil_eval::Segment;

use super::etag;
use super::json::{decode, JsonBody};
use super::lookup;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::instructions::{apply_segment_instructions, SegmentInstruction};
use crate::mutations::{segments as mutations, validation};
use crate::state::AppState;
use crate::store::params::SegmentFields;
use crate::store::rows::SegmentRow;
use crate::views::SegmentView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project}/environments/{environment}/segments",
            get(list).post(create),
        )
        .route(
            "/projects/{project}/environments/{environment}/segments/{segment}",
            get(read).put(replace).patch(patch).delete(remove),
        )
}

#[derive(Serialize)]
struct SegmentList {
    items: Vec<SegmentView>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key)): Path<(String, String)>,
) -> ApiResult<Json<SegmentList>> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let mut session = state.store.read().await?;
    let (_, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let items = session
        .list_segments(environment.id)
        .await?
        .iter()
        .map(SegmentView::new)
        .collect();
    Ok(Json(SegmentList { items }))
}

/// The descriptive fields of a segment body; the rest is LaunchDarkly segment JSON.
#[derive(Deserialize)]
struct Descriptive {
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    comment: String,
}

/// Fields a body may carry besides the segment's own.
const DESCRIPTIVE_FIELDS: [&str; 6] = [
    "name",
    "description",
    "tags",
    "comment",
    "createdAt",
    "updatedAt",
];

/// Splits a body into descriptive fields and the segment, rejecting unknown fields.
fn split_body(body: &Value) -> ApiResult<(Descriptive, Segment, Map<String, Value>)> {
    let object = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("the body must be a JSON object (a segment)"))?;
    if let Some(unknown) = object.keys().find(|key| {
        !Segment::FIELDS.contains(&key.as_str()) && !DESCRIPTIVE_FIELDS.contains(&key.as_str())
    }) {
        return Err(ApiError::invalid_field(
            unknown.clone(),
            "unknown segment field",
        ));
    }
    let bytes = body.to_string();
    let descriptive: Descriptive = decode(bytes.as_bytes())?;
    let segment: Segment = decode(bytes.as_bytes())?;
    for (index, tag) in descriptive.tags.iter().flatten().enumerate() {
        validation::key(&format!("tags[{index}]"), tag)?;
    }
    Ok((descriptive, segment, object.clone()))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Response)> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &environment_key)?;
    let (descriptive, segment, _) = split_body(&body)?;
    validation::key("key", &segment.key)?;
    let name = descriptive
        .name
        .clone()
        .unwrap_or_else(|| segment.key.clone());
    super::projects::require_name(&name)?;
    let fields = SegmentFields {
        name: &name,
        description: descriptive.description.as_deref().unwrap_or_default(),
        tags: descriptive.tags.as_deref().unwrap_or_default(),
    };
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let row = mutations::create(
        &mut *session,
        &caller,
        &project,
        &environment,
        &fields,
        segment,
        descriptive.comment,
    )
    .await?;
    session.commit().await?;
    Ok((StatusCode::CREATED, with_etag(&row)))
}

fn with_etag(row: &SegmentRow) -> Response {
    etag::respond(row.version as u64, &SegmentView::new(row))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, segment_key)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    caller
        .actor
        .require_environment(Role::Reader, &project_key, &environment_key)?;
    let mut session = state.store.read().await?;
    let (_, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let row = lookup::segment(&mut *session, &environment, &segment_key).await?;
    Ok(with_etag(&row))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, segment_key)): Path<(String, String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &environment_key)?;
    let if_match = etag::if_match(&headers)?;
    let (descriptive, segment, object) = split_body(&body)?;
    if object.contains_key("key") && segment.key != segment_key {
        return Err(ApiError::invalid_field(
            "key",
            "does not match the segment in the path",
        ));
    }
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let current = lookup::segment_for_update(&mut *session, &environment, &segment_key).await?;
    let body_version = object.contains_key("version").then_some(segment.version);
    etag::require_current(
        &format!("segment `{segment_key}`"),
        current.version as u64,
        [if_match, body_version],
    )?;
    let name = descriptive.name.unwrap_or_else(|| current.name.clone());
    super::projects::require_name(&name)?;
    let description = descriptive
        .description
        .unwrap_or_else(|| current.description.clone());
    let tags = descriptive.tags.unwrap_or_else(|| current.tags.clone());
    let fields = SegmentFields {
        name: &name,
        description: &description,
        tags: &tags,
    };
    let row = mutations::save(
        &mut *session,
        &caller,
        "segment.replace",
        &project,
        &environment,
        &current,
        &fields,
        segment,
        descriptive.comment,
    )
    .await?;
    session.commit().await?;
    Ok(with_etag(&row))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentPatch {
    #[serde(default)]
    comment: String,
    instructions: Vec<SegmentInstruction>,
}

async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, segment_key)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<SegmentPatch>,
) -> ApiResult<Response> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &environment_key)?;
    if body.instructions.is_empty() {
        return Err(ApiError::invalid_field("instructions", "must not be empty"));
    }
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let current = lookup::segment_for_update(&mut *session, &environment, &segment_key).await?;
    let mut new_rule_id = || uuid::Uuid::new_v4().to_string();
    let segment =
        apply_segment_instructions(&current.sdk_segment(), &body.instructions, &mut new_rule_id)
            .map_err(|error| {
                ApiError::invalid_field(
                    format!("instructions[{}]", error.index),
                    format!("{} ({})", error.reason, error.kind),
                )
            })?;
    let fields = SegmentFields {
        name: &current.name,
        description: &current.description,
        tags: &current.tags,
    };
    let row = mutations::save(
        &mut *session,
        &caller,
        "segment.patch",
        &project,
        &environment,
        &current,
        &fields,
        segment,
        body.comment,
    )
    .await?;
    session.commit().await?;
    Ok(with_etag(&row))
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, environment_key, segment_key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &environment_key)?;
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &environment_key).await?;
    let current = lookup::segment_for_update(&mut *session, &environment, &segment_key).await?;
    mutations::delete(
        &mut *session,
        &caller,
        &project,
        &environment,
        &current,
        String::new(),
    )
    .await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
