//! `/projects/{p}/flags[/{key}]`: project-level flag fields, archiving, deletion, and the
//! semantic PATCH that changes one environment's targeting.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::json::{JsonBody, OptionalJsonBody};
use super::lookup;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::instructions::FlagInstruction;
use crate::mutations::{flags as mutations, targeting, validation, variations};
use crate::state::AppState;
use crate::store::params::{FlagFields, FlagFilter};
use crate::store::rows::Variation;
use crate::views::FlagView;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project}/flags", get(list).post(create))
        .route(
            "/projects/{project}/flags/{flag}",
            get(read).put(replace).patch(patch).delete(remove),
        )
        .route("/projects/{project}/flags/{flag}/archive", post(archive))
        .route("/projects/{project}/flags/{flag}/restore", post(restore))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    tag: Option<String>,
    /// Substring of the key, name or description.
    q: Option<String>,
    archived: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagList<'a> {
    items: Vec<FlagView<'a>>,
    total_count: i64,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let limit = super::page_limit(query.limit)?;
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid_field("offset", "must not be negative"));
    }
    let mut session = state.store.read().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let filter = FlagFilter {
        tag: query.tag,
        text: query.q,
        is_archived: query.archived,
        limit,
        offset,
    };
    let (rows, total_count) = session.list_flags(project.id, &filter).await?;
    let list = FlagList {
        items: rows.iter().map(FlagView::project_fields).collect(),
        total_count,
    };
    Ok(Json(crate::views::json(&list)))
}

/// The project-level fields a create or replace request carries.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FlagBody {
    key: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
    kind: Option<String>,
    /// Default: a boolean flag, `[true, false]`.
    variations: Option<Vec<Variation>>,
    #[serde(default)]
    tags: Vec<String>,
    maintainer: Option<String>,
    #[serde(default = "default_true")]
    temporary: bool,
    #[serde(default)]
    client_side_availability: ClientSideAvailabilityBody,
    /// Create only: the variations a new environment serves when on and off.
    defaults: Option<Defaults>,
    /// Read-only fields GET shows, accepted and ignored so a GET body can be sent back.
    #[serde(default, rename = "archived")]
    _archived: Option<IgnoredAny>,
    #[serde(default, rename = "environments")]
    _environments: Option<IgnoredAny>,
    #[serde(default, rename = "createdAt")]
    _created_at: Option<IgnoredAny>,
    #[serde(default, rename = "updatedAt")]
    _updated_at: Option<IgnoredAny>,
    /// Audit comment.
    #[serde(default)]
    comment: String,
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClientSideAvailabilityBody {
    #[serde(default)]
    using_mobile_key: bool,
    #[serde(default)]
    using_environment_id: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Defaults {
    on_variation: i64,
    off_variation: i64,
}

impl FlagBody {
    fn variations(&self) -> Vec<Variation> {
        self.variations.clone().unwrap_or_else(|| {
            [true, false]
                .into_iter()
                .map(|value| Variation {
                    value: value.into(),
                    name: None,
                    description: None,
                })
                .collect()
        })
    }

    /// Checks the fields and returns them with the (given or inferred) kind.
    fn fields<'a>(
        &'a self,
        variations: &'a [Variation],
        kind: &'a str,
    ) -> ApiResult<FlagFields<'a>> {
        super::projects::require_name(&self.name)?;
        variations::check(kind, variations)?;
        for (index, tag) in self.tags.iter().enumerate() {
            validation::key(&format!("tags[{index}]"), tag)?;
        }
        Ok(FlagFields {
            name: &self.name,
            description: &self.description,
            kind,
            variations,
            tags: &self.tags,
            maintainer: self.maintainer.as_deref(),
            is_temporary: self.temporary,
            using_mobile_key: self.client_side_availability.using_mobile_key,
            using_environment_id: self.client_side_availability.using_environment_id,
        })
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(project_key): Path<String>,
    JsonBody(body): JsonBody<FlagBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    caller.actor.require_project(Role::Writer, &project_key)?;
    let key = body
        .key
        .clone()
        .ok_or_else(|| ApiError::invalid_field("key", "missing"))?;
    validation::flag_key("key", &key)?;
    let variations = body.variations();
    let kind = body
        .kind
        .clone()
        .unwrap_or_else(|| variations::infer_kind(&variations).to_owned());
    let fields = body.fields(&variations, &kind)?;
    let last = variations.len() as i64 - 1;
    let (on_variation, off_variation) = match &body.defaults {
        Some(defaults) => (defaults.on_variation, defaults.off_variation),
        None => (0, last),
    };
    for (path, index) in [
        ("defaults.onVariation", on_variation),
        ("defaults.offVariation", off_variation),
    ] {
        if !(0..=last).contains(&index) {
            return Err(ApiError::invalid_field(
                path,
                format!("variation index {index} is out of range 0..={last}"),
            ));
        }
    }
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = mutations::create(
        &mut *session,
        &caller,
        &project,
        &key,
        &fields,
        on_variation,
        off_variation,
    )
    .await?;
    let environments = session.flag_environment_configs(flag.id).await?;
    session.commit().await?;
    let view = visible(FlagView::with_environments(&flag, &environments), &caller);
    Ok((StatusCode::CREATED, Json(view.to_json())))
}

/// Hides the environments a scoped token cannot see.
fn visible<'a>(mut view: FlagView<'a>, caller: &Caller) -> FlagView<'a> {
    if let Some(environments) = view.environments.take() {
        let environments: BTreeMap<_, _> = environments
            .into_iter()
            .filter(|(key, _)| caller.actor.can_see_environment(key))
            .collect();
        view.environments = Some(environments);
    }
    view
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.actor.require_project(Role::Reader, &project_key)?;
    let mut session = state.store.read().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag(&mut *session, &project, &flag_key).await?;
    let environments = session.flag_environment_configs(flag.id).await?;
    let view = visible(FlagView::with_environments(&flag, &environments), &caller);
    Ok(Json(view.to_json()))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<FlagBody>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.actor.require_project(Role::Writer, &project_key)?;
    if body.key.as_deref().is_some_and(|key| key != flag_key) {
        return Err(ApiError::invalid_field(
            "key",
            "does not match the flag in the path; keys cannot change",
        ));
    }
    if body.defaults.is_some() {
        return Err(ApiError::invalid_field(
            "defaults",
            "only applies when creating a flag",
        ));
    }
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    let variations = body
        .variations
        .clone()
        .unwrap_or_else(|| flag.variations.0.clone());
    let kind = body.kind.clone().unwrap_or_else(|| flag.kind.clone());
    let fields = body.fields(&variations, &kind)?;
    let comment = body.comment.clone();
    let updated =
        mutations::update_project_fields(&mut *session, &caller, &project, &flag, &fields, comment)
            .await?;
    let environments = session.flag_environment_configs(flag.id).await?;
    session.commit().await?;
    let view = visible(
        FlagView::with_environments(&updated, &environments),
        &caller,
    );
    Ok(Json(view.to_json()))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    #[serde(default)]
    comment: String,
}

async fn archive(
    state: State<AppState>,
    caller: Caller,
    path: Path<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<CommentBody>,
) -> ApiResult<StatusCode> {
    set_archived(state, caller, path, OptionalJsonBody(body), true).await
}

async fn restore(
    state: State<AppState>,
    caller: Caller,
    path: Path<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<CommentBody>,
) -> ApiResult<StatusCode> {
    set_archived(state, caller, path, OptionalJsonBody(body), false).await
}

async fn set_archived(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    OptionalJsonBody(body): OptionalJsonBody<CommentBody>,
    is_archived: bool,
) -> ApiResult<StatusCode> {
    caller.actor.require_project(Role::Writer, &project_key)?;
    let comment = body.map(|body| body.comment).unwrap_or_default();
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    mutations::set_archived(
        &mut *session,
        &caller,
        &project,
        &flag,
        is_archived,
        comment,
    )
    .await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.actor.require_project(Role::Writer, &project_key)?;
    let mut session = state.store.write().await?;
    let project = lookup::project(&mut *session, &project_key).await?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    mutations::delete(&mut *session, &caller, &project, &flag, String::new()).await?;
    session.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `{"environmentKey": ..., "comment": ..., "instructions": [...]}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SemanticPatch {
    pub environment_key: String,
    #[serde(default)]
    pub comment: String,
    pub instructions: Vec<FlagInstruction>,
}

async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path((project_key, flag_key)): Path<(String, String)>,
    JsonBody(body): JsonBody<SemanticPatch>,
) -> ApiResult<Json<vexil_eval::Flag>> {
    caller
        .actor
        .require_environment(Role::Writer, &project_key, &body.environment_key)?;
    let mut session = state.store.write().await?;
    let (project, environment) =
        lookup::project_environment(&mut *session, &project_key, &body.environment_key).await?;
    targeting::refuse_direct_write(&caller, &environment)?;
    let flag = lookup::flag_for_update(&mut *session, &project, &flag_key).await?;
    let updated = targeting::apply_instructions(
        &mut *session,
        &caller,
        &project,
        &environment,
        &flag,
        &body.instructions,
        "flag.patch",
        body.comment,
    )
    .await?;
    session.commit().await?;
    Ok(Json(updated))
}
