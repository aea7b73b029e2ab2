//! `/tokens`: API tokens, managed by admin tokens that are not scoped (a scoped token
//! could otherwise mint itself a wider one).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::json::JsonBody;
use crate::audit::AuditRecord;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::mutations::validation;
use crate::state::AppState;
use crate::store::params::NewToken;
use crate::store::rows::ApiToken;
use crate::views::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{token}", delete(revoke))
}

fn require_token_admin(caller: &Caller) -> ApiResult<()> {
    caller.actor.require(Role::Admin)?;
    if caller.actor.is_scoped() {
        return Err(ApiError::forbidden(format!(
            "token `{}` is scoped; only an unscoped admin token manages API tokens",
            caller.actor.name
        )));
    }
    Ok(())
}

#[derive(Serialize)]
struct TokenList {
    items: Vec<ApiToken>,
}

async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TokenList>> {
    require_token_admin(&caller)?;
    Ok(Json(TokenList {
        items: state.store.read().await?.list_tokens().await?,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewTokenBody {
    name: String,
    role: Role,
    project_keys: Option<Vec<String>>,
    environment_keys: Option<Vec<String>>,
    #[serde(default)]
    can_bypass_approvals: bool,
}

#[derive(Serialize)]
struct CreatedToken {
    #[serde(flatten)]
    token: ApiToken,
    /// The token itself, shown only in this response.
    secret: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewTokenBody>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    require_token_admin(&caller)?;
    super::projects::require_name(&body.name)?;
    for (field, keys) in [
        ("projectKeys", &body.project_keys),
        ("environmentKeys", &body.environment_keys),
    ] {
        if let Some(keys) = keys {
            if keys.is_empty() {
                return Err(ApiError::invalid_field(
                    field,
                    "an empty scope allows nothing; omit it to allow everything",
                ));
            }
            for (index, key) in keys.iter().enumerate() {
                validation::key(&format!("{field}[{index}]"), key)?;
            }
        }
    }
    if body.can_bypass_approvals && body.role != Role::Admin {
        return Err(ApiError::invalid_field(
            "canBypassApprovals",
            "only admin tokens may bypass approvals",
        ));
    }
    let mut session = state.store.write().await?;
    let (token, secret) = session
        .create_token(&NewToken {
            name: &body.name,
            role: body.role,
            project_keys: body.project_keys.as_deref(),
            environment_keys: body.environment_keys.as_deref(),
            can_bypass_approvals: body.can_bypass_approvals,
            created_by: caller.actor.token_id,
        })
        .await?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "token.create",
                resource: format!("tokens/{}", token.id),
                after: Some(json(&token)),
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiToken>> {
    require_token_admin(&caller)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no token `{id}`: token ids are UUIDs")))?;
    let mut session = state.store.write().await?;
    let token = session
        .revoke_token(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no token `{id}`")))?;
    session
        .append_audit(
            &caller,
            AuditRecord {
                action: "token.revoke",
                resource: format!("tokens/{id}"),
                after: Some(json(&token)),
                ..AuditRecord::default()
            },
        )
        .await?;
    session.commit().await?;
    Ok(Json(token))
}
