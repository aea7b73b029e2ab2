//! Who is calling and what they may do: API tokens (`Authorization: Bearer <token>`),
//! their role and scope, and the permission checks every route makes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::store::ConfigStore;

/// What a token may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything in scope.
    Reader,
    /// Also change flags and segments, and create, review and apply approval requests.
    Writer,
    /// Also manage projects, environments, SDK keys and API tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "reader" => Some(Role::Reader),
            "writer" => Some(Role::Writer),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub token_id: Uuid,
    pub name: String,
    pub role: Role,
    /// `None`: every project.
    pub project_keys: Option<Vec<String>>,
    /// `None`: every environment.
    pub environment_keys: Option<Vec<String>>,
    pub can_bypass_approvals: bool,
}

impl Actor {
    /// Refuses (403, saying what is missing) unless the token has `role` or more.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token `{}` has role {}, this needs {}",
                self.name,
                self.role.as_str(),
                role.as_str()
            )))
        }
    }

    /// Refuses unless the token has `role` and its scope includes the project.
    pub fn require_project(&self, role: Role, project_key: &str) -> Result<(), ApiError> {
        self.require(role)?;
        if self.can_see_project(project_key) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token `{}` is not scoped to project `{project_key}`",
                self.name
            )))
        }
    }

    /// Refuses unless the token has `role` and its scope includes the environment.
    pub fn require_environment(
        &self,
        role: Role,
        project_key: &str,
        environment_key: &str,
    ) -> Result<(), ApiError> {
        self.require_project(role, project_key)?;
        if self.can_see_environment(environment_key) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "token `{}` is not scoped to environment `{environment_key}`",
                self.name
            )))
        }
    }

    pub fn can_see_project(&self, project_key: &str) -> bool {
        self.project_keys
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|key| key == project_key))
    }

    pub fn can_see_environment(&self, environment_key: &str) -> bool {
        self.environment_keys
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|key| key == environment_key))
    }

    /// Whether the token is limited to some projects or environments.
    pub fn is_scoped(&self) -> bool {
        self.project_keys.is_some() || self.environment_keys.is_some()
    }
}

/// The caller and where the request came from, for permission checks and the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

/// The request id header, set by the request-id layer when the client sends none.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

impl<S> FromRequestParts<S> for Caller
where
    Arc<dyn ConfigStore>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        let store = Arc::<dyn ConfigStore>::from_ref(state);
        let actor = store
            .read()
            .await?
            .find_actor(token)
            .await?
            .ok_or_else(|| ApiError::unauthenticated("unknown or revoked API token"))?;
        let client_ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip().to_string());
        let request_id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Caller {
            actor,
            client_ip,
            request_id,
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthenticated("missing `Authorization: Bearer <API token>` header")
    })?;
    value
        .to_str()
        .ok()
        .and_then(|text| text.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::unauthenticated("the Authorization header must be `Bearer <API token>`")
        })
}
