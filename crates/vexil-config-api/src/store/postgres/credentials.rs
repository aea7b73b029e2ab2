//! `config.sdk_credentials`: server-side SDK keys, mobile keys and client-side IDs.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::kinds::CredentialKind;
use crate::store::rows::{Credential, Resolved};

use crate::secrets;
use crate::store::StoreError;

/// Creates a credential; returns it and its secret, which is never stored in clear
/// (except a client-side ID, which is public).
pub async fn create(
    connection: &mut PgConnection,
    environment_id: Uuid,
    kind: CredentialKind,
) -> Result<(Credential, String), StoreError> {
    let secret = kind.generate();
    let hint = match kind {
        CredentialKind::Client => secret.clone(),
        _ => secrets::hint(&secret),
    };
    let credential = sqlx::query_as!(
        Credential,
        r#"INSERT INTO config.sdk_credentials (id, environment_id, kind, sha256, hint, created_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at, revoked_at"#,
        Uuid::new_v4(),
        environment_id,
        kind.as_str(),
        secrets::sha256(&secret),
        hint,
        crate::store::now(),
    )
    .fetch_one(connection)
    .await?;
    Ok((credential, secret))
}

pub async fn list(
    connection: &mut PgConnection,
    environment_id: Uuid,
) -> Result<Vec<Credential>, StoreError> {
    sqlx::query_as!(
        Credential,
        r#"SELECT id, environment_id, kind, sha256, hint, created_at, expires_at, revoked_at
           FROM config.sdk_credentials WHERE environment_id = $1 ORDER BY created_at"#,
        environment_id
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Ends the active credentials of a kind: from `expires_at` on, or at once when `None`.
/// Returns the credentials it changed.
pub async fn retire(
    connection: &mut PgConnection,
    environment_id: Uuid,
    kind: CredentialKind,
    expires_at: Option<OffsetDateTime>,
) -> Result<Vec<Credential>, StoreError> {
    let now = crate::store::now();
    sqlx::query_as!(
        Credential,
        r#"UPDATE config.sdk_credentials
           SET expires_at = CASE WHEN $4::timestamptz IS NULL THEN expires_at
                                 ELSE LEAST(coalesce(expires_at, $4), $4) END,
               revoked_at = CASE WHEN $4::timestamptz IS NULL THEN $3 ELSE revoked_at END
           WHERE environment_id = $1 AND kind = $2 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > $3)
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at, revoked_at"#,
        environment_id,
        kind.as_str(),
        now,
        expires_at,
    )
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Revokes one credential at once; `None` when it is not the environment's.
pub async fn revoke(
    connection: &mut PgConnection,
    environment_id: Uuid,
    id: Uuid,
) -> Result<Option<Credential>, StoreError> {
    sqlx::query_as!(
        Credential,
        r#"UPDATE config.sdk_credentials SET revoked_at = coalesce(revoked_at, $3)
           WHERE id = $1 AND environment_id = $2
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at, revoked_at"#,
        id,
        environment_id,
        crate::store::now(),
    )
    .fetch_optional(connection)
    .await
    .map_err(StoreError::from)
}

/// Resolves a raw credential; `None` when unknown, revoked or expired.
pub async fn resolve(
    connection: &mut PgConnection,
    secret: &str,
) -> Result<Option<Resolved>, StoreError> {
    let row = sqlx::query!(
        r#"SELECT c.environment_id, c.kind, p.key AS project_key, e.key AS environment_key
           FROM config.sdk_credentials c
           JOIN config.environments e ON e.id = c.environment_id
           JOIN config.projects p ON p.id = e.project_id
           WHERE c.sha256 = $1 AND c.revoked_at IS NULL
             AND (c.expires_at IS NULL OR c.expires_at > now())"#,
        secrets::sha256(secret),
    )
    .fetch_optional(connection)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    // The schema constrains `kind`; a value outside it is refused, not guessed at.
    let kind = CredentialKind::parse(&row.kind).ok_or(StoreError::Corrupt {
        table: "config.sdk_credentials",
        column: "kind",
    })?;
    Ok(Some(Resolved {
        environment_id: row.environment_id,
        project_key: row.project_key,
        environment_key: row.environment_key,
        kind,
    }))
}
