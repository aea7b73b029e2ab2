//! Applies a service's sqlx migrations with their bookkeeping table inside the service's own
//! schema (`config._sqlx_migrations`, `analytics._sqlx_migrations`), so config-api and
//! analytics-worker can share one database, as `vexil up --database-url` and a single
//! managed PostgreSQL do. sqlx 0.8 always names the table `_sqlx_migrations` and creates it
//! in the first schema of the connection's `search_path`; the migrations themselves name
//! every object with its schema, so only that table moves.
//!
//! Databases migrated before this existed keep their history in `public._sqlx_migrations`;
//! the first run copies this service's rows from there, so nothing is applied twice.

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, PgPool};

/// Why migrating failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("schema name {0:?} is not a plain lower-case identifier")]
    SchemaName(String),
    #[error("preparing schema {schema}: {source}")]
    Prepare {
        schema: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying the migrations of schema {schema}: {source}")]
    Apply {
        schema: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// Creates `schema` when missing, then applies `migrator` with its history in
/// `{schema}._sqlx_migrations`. Safe to run from several replicas at once: schema
/// preparation and sqlx's own run each hold an advisory lock.
pub async fn run(pool: &PgPool, schema: &str, migrator: &Migrator) -> Result<(), MigrateError> {
    let is_identifier = !schema.is_empty()
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !is_identifier {
        return Err(MigrateError::SchemaName(schema.to_owned()));
    }
    let prepare_error = |source| MigrateError::Prepare {
        schema: schema.to_owned(),
        source,
    };
    // A connection of its own, closed afterwards: its search_path must not reach the pool.
    let mut connection = pool.acquire().await.map_err(prepare_error)?.detach();
    prepare(&mut connection, schema, migrator)
        .await
        .map_err(prepare_error)?;
    let applied = migrator
        .run_direct(&mut connection)
        .await
        .map_err(|source| MigrateError::Apply {
            schema: schema.to_owned(),
            source,
        });
    // Closing can only fail to say goodbye politely; the server drops the session anyway.
    let _ = connection.close().await;
    applied
}

/// Creates the schema and, on a database migrated the old way, moves this service's history
/// into it; leaves the connection's `search_path` at the schema.
async fn prepare(
    connection: &mut PgConnection,
    schema: &str,
    migrator: &Migrator,
) -> Result<(), sqlx::Error> {
    let mut transaction = connection.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('vexil.migrations.' || $1))")
        .bind(schema)
        .execute(&mut *transaction)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&mut *transaction)
        .await?;
    let (has_own, has_public): (bool, bool) = sqlx::query_as(
        "SELECT to_regclass(format('%I._sqlx_migrations', $1::text)) IS NOT NULL, \
                to_regclass('public._sqlx_migrations') IS NOT NULL",
    )
    .bind(schema)
    .fetch_one(&mut *transaction)
    .await?;
    if !has_own && has_public {
        let versions: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        sqlx::query(&format!(
            "CREATE TABLE {schema}._sqlx_migrations (LIKE public._sqlx_migrations INCLUDING ALL)"
        ))
        .execute(&mut *transaction)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO {schema}._sqlx_migrations \
             SELECT * FROM public._sqlx_migrations WHERE version = ANY($1)"
        ))
        .bind(&versions)
        .execute(&mut *transaction)
        .await?;
    }
    transaction.commit().await?;
    sqlx::query(&format!("SET search_path TO {schema}"))
        .execute(&mut *connection)
        .await?;
    Ok(())
}
