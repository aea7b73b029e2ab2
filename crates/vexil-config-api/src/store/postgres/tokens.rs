//! `config.api_tokens`.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::auth::{Actor, Role};
use crate::secrets;
use crate::store::params::NewToken;
use crate::store::rows::ApiToken;
use crate::store::StoreError;

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
        crate::store::now(),
    )
    .fetch_one(connection)
    .await?;
    Ok((token, secret))
}

pub async fn list(connection: &mut PgConnection) -> Result<Vec<ApiToken>, StoreError> {
    sqlx::query_as!(
        ApiToken,
        r#"SELECT id, name, role, project_keys, environment_keys, can_bypass_approvals,
                  hint, is_bootstrap, created_by, created_at, revoked_at
           FROM config.api_tokens ORDER BY created_at"#
    )
    .fetch_all(connection)
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
        crate::store::now(),
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// The actor an unrevoked token secret stands for.
pub async fn find_actor(
    connection: &mut PgConnection,
    token: &str,
) -> Result<Option<Actor>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT id, name, role, project_keys, environment_keys, can_bypass_approvals
           FROM config.api_tokens WHERE sha256 = $1 AND revoked_at IS NULL"#,
        secrets::sha256(token),
    )
    .fetch_optional(connection)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    // The schema constrains `role`; a value outside it is refused, not guessed at.
    let role = Role::parse(&row.role).ok_or(StoreError::Corrupt {
        table: "config.api_tokens",
        column: "role",
    })?;
    Ok(Some(Actor {
        token_id: row.id,
        name: row.name,
        role,
        project_keys: row.project_keys,
        environment_keys: row.environment_keys,
        can_bypass_approvals: row.can_bypass_approvals,
    }))
}

/// Makes the configured bootstrap admin token exist, revoking an earlier bootstrap token
/// whose secret differs; in the caller's transaction.
pub async fn ensure_bootstrap(
    connection: &mut PgConnection,
    secret: &str,
) -> Result<(), StoreError> {
    let hash = secrets::sha256(secret);
    sqlx::query!(
        r#"UPDATE config.api_tokens SET revoked_at = now()
           WHERE is_bootstrap AND revoked_at IS NULL AND sha256 <> $1"#,
        hash,
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query!(
        r#"INSERT INTO config.api_tokens
               (id, name, role, can_bypass_approvals, sha256, hint, is_bootstrap)
           VALUES ($1, 'bootstrap admin', 'admin', true, $2, $3, true)
           ON CONFLICT (sha256) DO UPDATE SET revoked_at = NULL
           WHERE config.api_tokens.is_bootstrap"#,
        Uuid::new_v4(),
        hash,
        secrets::hint(secret),
    )
    .execute(connection)
    .await?;
    Ok(())
}
