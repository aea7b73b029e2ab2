//! `api_tokens`: who may call the REST API, and the configured bootstrap admin token.

use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::auth::{Actor, Role};
use crate::secrets;
use crate::store::params::NewToken;
use crate::store::rows::ApiToken;
use crate::store::StoreResult;

/// Creates a token; returns it and its secret, shown once.
pub(super) async fn create(
    connection: &mut SqliteConnection,
    new: &NewToken<'_>,
) -> StoreResult<(ApiToken, String)> {
    let secret = secrets::new_api_token();
    let row = sqlx::query(
        r#"INSERT INTO api_tokens (id, name, role, project_keys, environment_keys,
               can_bypass_approvals, sha256, hint, created_by, created_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
           RETURNING id, name, role, project_keys, environment_keys, can_bypass_approvals,
                     hint, is_bootstrap, created_by, created_at, revoked_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(new.name)
    .bind(new.role.as_str())
    .bind(new.project_keys.map(values::texts))
    .bind(new.environment_keys.map(values::texts))
    .bind(new.can_bypass_approvals)
    .bind(secrets::sha256(&secret))
    .bind(secrets::hint(&secret))
    .bind(values::id(new.created_by))
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    Ok((token(&row)?, secret))
}

/// Every token, revoked ones too, oldest first.
pub(super) async fn list(connection: &mut SqliteConnection) -> StoreResult<Vec<ApiToken>> {
    let rows = sqlx::query(
        r#"SELECT id, name, role, project_keys, environment_keys, can_bypass_approvals, hint,
                  is_bootstrap, created_by, created_at, revoked_at
           FROM api_tokens ORDER BY created_at"#,
    )
    .fetch_all(connection)
    .await?;
    rows.iter().map(token).collect()
}

/// Revokes a token (keeping an earlier revocation time); `None` when there is no such
/// token.
pub(super) async fn revoke(
    connection: &mut SqliteConnection,
    id: Uuid,
) -> StoreResult<Option<ApiToken>> {
    let row = sqlx::query(
        r#"UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1
           RETURNING id, name, role, project_keys, environment_keys, can_bypass_approvals,
                     hint, is_bootstrap, created_by, created_at, revoked_at"#,
    )
    .bind(values::id(id))
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(token).transpose()
}

/// The actor an unrevoked token secret stands for.
pub(super) async fn find_actor(
    connection: &mut SqliteConnection,
    secret: &str,
) -> StoreResult<Option<Actor>> {
    let row = sqlx::query(
        r#"SELECT id, name, role, project_keys, environment_keys, can_bypass_approvals
           FROM api_tokens WHERE sha256 = ?1 AND revoked_at IS NULL"#,
    )
    .bind(secrets::sha256(secret))
    .fetch_optional(connection)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let columns = Columns::of(&row, "api_tokens");
    Ok(Some(Actor {
        token_id: columns.uuid("id")?,
        name: columns.text("name")?,
        role: role(&columns)?,
        project_keys: columns.optional_texts("project_keys")?,
        environment_keys: columns.optional_texts("environment_keys")?,
        can_bypass_approvals: columns.boolean("can_bypass_approvals")?,
    }))
}

/// Makes the bootstrap admin token with this secret exist (un-revoking it when it was
/// revoked), revoking an earlier bootstrap token whose secret differs.
pub(super) async fn ensure_bootstrap(
    connection: &mut SqliteConnection,
    secret: &str,
) -> StoreResult<()> {
    let hash = secrets::sha256(secret);
    let now = values::micros(crate::store::now());
    sqlx::query(
        r#"UPDATE api_tokens SET revoked_at = ?2
           WHERE is_bootstrap = 1 AND revoked_at IS NULL AND sha256 <> ?1"#,
    )
    .bind(&hash)
    .bind(now)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        r#"INSERT INTO api_tokens
               (id, name, role, can_bypass_approvals, sha256, hint, is_bootstrap, created_at)
           VALUES (?1, 'bootstrap admin', 'admin', 1, ?2, ?3, 1, ?4)
           ON CONFLICT (sha256) DO UPDATE SET revoked_at = NULL
           WHERE api_tokens.is_bootstrap = 1"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(&hash)
    .bind(secrets::hint(secret))
    .bind(now)
    .execute(connection)
    .await?;
    Ok(())
}

fn token(row: &SqliteRow) -> StoreResult<ApiToken> {
    let columns = Columns::of(row, "api_tokens");
    Ok(ApiToken {
        id: columns.uuid("id")?,
        name: columns.text("name")?,
        role: role(&columns)?.as_str().to_owned(),
        project_keys: columns.optional_texts("project_keys")?,
        environment_keys: columns.optional_texts("environment_keys")?,
        can_bypass_approvals: columns.boolean("can_bypass_approvals")?,
        hint: columns.text("hint")?,
        is_bootstrap: columns.boolean("is_bootstrap")?,
        created_by: columns.optional_uuid("created_by")?,
        created_at: columns.time("created_at")?,
        revoked_at: columns.optional_time("revoked_at")?,
    })
}

/// `role`, which the schema constrains; a value outside it is refused, not guessed at.
fn role(columns: &Columns<'_>) -> StoreResult<Role> {
    Role::parse(&columns.text("role")?).ok_or_else(|| columns.corrupt("role"))
}
