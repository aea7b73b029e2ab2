//! `config.api_tokens`.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use super::params::NewToken;
use super::rows::ApiToken;

use super::StoreError;
use crate::secrets;

/// Creates a token; returns it and its secret, shown once.
pub async fn create(
    connection: &mut PgConnection,
    new: &NewToken<'_>,
) -> Result<(ApiToken, String), StoreError> {
    let secret = secrets::new_api_token();
    let token = sqlx::query_as!(
        ApiToken,
        r#"INSERT INTO config.api_tokens (id, name, role, project_keys, environment_keys,
               can_bypass_approvals, sha256, hint, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           RETURNING id, name, role, project_keys, environment_keys, can_bypass_approvals,
                     hint, is_bootstrap, created_by, created_at, revoked_at"#,
        Uuid::new_v4(),
        new.name,
        new.role.as_str(),
        new.project_keys,
        new.environment_keys,
        new.can_bypass_approvals,
        secrets::sha256(&secret),
        secrets::hint(&secret),
        new.created_by,
        super::now(),
    )
    .fetch_one(connection)
    .await?;
    Ok((token, secret))
}

pub async fn list(pool: &PgPool) -> Result<Vec<ApiToken>, StoreError> {
    sqlx::query_as!(
        ApiToken,
        r#"SELECT id, name, role, project_keys, environment_keys, can_bypass_approvals,
                  hint, is_bootstrap, created_by, created_at, revoked_at
           FROM config.api_tokens ORDER BY created_at"#
    )
    .fetch_all(pool)
    .await
    .map_err(StoreError::from)
}

/// Revokes a token; `None` when there is no such token.
pub async fn revoke(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ApiToken>, StoreError> {
    sqlx::query_as!(
        ApiToken,
        r#"UPDATE config.api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1
           RETURNING id, name, role, project_keys, environment_keys, can_bypass_approvals,
                     hint, is_bootstrap, created_by, created_at, revoked_at"#,
        id,
        super::now(),
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}
