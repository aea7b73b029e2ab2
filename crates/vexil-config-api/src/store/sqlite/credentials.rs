//! `sdk_credentials`: server-side SDK keys, mobile keys and client-side IDs.

use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::values::{self, Columns};
use crate::secrets;
use crate::store::kinds::CredentialKind;
use crate::store::rows::{Credential, Resolved};
use crate::store::StoreResult;

/// Creates a credential; returns it and its secret, which is never stored in clear
/// (except a client-side ID, which is public).
pub(super) async fn create(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    kind: CredentialKind,
) -> StoreResult<(Credential, String)> {
    let secret = kind.generate();
    let hint = match kind {
        CredentialKind::Client => secret.clone(),
        _ => secrets::hint(&secret),
    };
    let row = sqlx::query(
        r#"INSERT INTO sdk_credentials (id, environment_id, kind, sha256, hint, created_at)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6)
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at,
                     revoked_at"#,
    )
    .bind(values::id(Uuid::new_v4()))
    .bind(values::id(environment_id))
    .bind(kind.as_str())
    .bind(secrets::sha256(&secret))
    .bind(hint)
    .bind(values::micros(crate::store::now()))
    .fetch_one(connection)
    .await?;
    Ok((credential(&row)?, secret))
}

/// An environment's credentials, oldest first.
pub(super) async fn list(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
) -> StoreResult<Vec<Credential>> {
    let rows = sqlx::query(
        r#"SELECT id, environment_id, kind, sha256, hint, created_at, expires_at, revoked_at
           FROM sdk_credentials WHERE environment_id = ?1 ORDER BY created_at"#,
    )
    .bind(values::id(environment_id))
    .fetch_all(connection)
    .await?;
    rows.iter().map(credential).collect()
}

/// Ends the active credentials of a kind: from `expires_at` on (never later than an expiry
/// they already have), or at once when `None`. Returns the credentials it changed.
pub(super) async fn retire(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    kind: CredentialKind,
    expires_at: Option<OffsetDateTime>,
) -> StoreResult<Vec<Credential>> {
    // SQLite's two-argument min() is PostgreSQL's LEAST here: coalesce makes both non-null.
    let rows = sqlx::query(
        r#"UPDATE sdk_credentials
           SET expires_at = CASE WHEN ?4 IS NULL THEN expires_at
                                 ELSE min(coalesce(expires_at, ?4), ?4) END,
               revoked_at = CASE WHEN ?4 IS NULL THEN ?3 ELSE revoked_at END
           WHERE environment_id = ?1 AND kind = ?2 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > ?3)
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at,
                     revoked_at"#,
    )
    .bind(values::id(environment_id))
    .bind(kind.as_str())
    .bind(values::micros(crate::store::now()))
    .bind(expires_at.map(values::micros))
    .fetch_all(connection)
    .await?;
    rows.iter().map(credential).collect()
}

/// Revokes one credential at once (keeping an earlier revocation time); `None` when it is
/// not the environment's.
pub(super) async fn revoke(
    connection: &mut SqliteConnection,
    environment_id: Uuid,
    id: Uuid,
) -> StoreResult<Option<Credential>> {
    let row = sqlx::query(
        r#"UPDATE sdk_credentials SET revoked_at = coalesce(revoked_at, ?3)
           WHERE id = ?1 AND environment_id = ?2
           RETURNING id, environment_id, kind, sha256, hint, created_at, expires_at,
                     revoked_at"#,
    )
    .bind(values::id(id))
    .bind(values::id(environment_id))
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    row.as_ref().map(credential).transpose()
}

/// Resolves a raw credential; `None` when unknown, revoked or expired.
pub(super) async fn resolve(
    connection: &mut SqliteConnection,
    secret: &str,
) -> StoreResult<Option<Resolved>> {
    let row = sqlx::query(
        r#"SELECT c.environment_id, c.kind, p.key AS project_key, e.key AS environment_key
           FROM sdk_credentials c
           JOIN environments e ON e.id = c.environment_id
           JOIN projects p ON p.id = e.project_id
           WHERE c.sha256 = ?1 AND c.revoked_at IS NULL
             AND (c.expires_at IS NULL OR c.expires_at > ?2)"#,
    )
    .bind(secrets::sha256(secret))
    .bind(values::micros(crate::store::now()))
    .fetch_optional(connection)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let columns = Columns::of(&row, "sdk_credentials");
    Ok(Some(Resolved {
        environment_id: columns.uuid("environment_id")?,
        project_key: Columns::of(&row, "projects").text("project_key")?,
        environment_key: Columns::of(&row, "environments").text("environment_key")?,
        kind: credential_kind(&columns)?,
    }))
}

fn credential(row: &SqliteRow) -> StoreResult<Credential> {
    let columns = Columns::of(row, "sdk_credentials");
    Ok(Credential {
        id: columns.uuid("id")?,
        environment_id: columns.uuid("environment_id")?,
        // Checked here: `Credential::kind` relies on it.
        kind: credential_kind(&columns)?.as_str().to_owned(),
        sha256: columns.blob("sha256")?,
        hint: columns.text("hint")?,
        created_at: columns.time("created_at")?,
        expires_at: columns.optional_time("expires_at")?,
        revoked_at: columns.optional_time("revoked_at")?,
    })
}

/// `kind`, which the schema constrains; a value outside it is refused, not guessed at.
fn credential_kind(columns: &Columns<'_>) -> StoreResult<CredentialKind> {
    CredentialKind::parse(&columns.text("kind")?).ok_or_else(|| columns.corrupt("kind"))
}
