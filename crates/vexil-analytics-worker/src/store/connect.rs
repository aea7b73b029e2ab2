//! Picks the store `database.url` names (PostgreSQL or SQLite) and opens it, applying
//! migrations when `database.migrate` is set.

use std::sync::Arc;

use anyhow::Context;
use vexil_service::database::{DatabaseConfig, DatabaseKind};

use super::{AnalyticsStore, PostgresStore, SqliteStore};

/// The databases the worker runs on.
pub const DATABASE_KINDS: &[DatabaseKind] = &[DatabaseKind::Postgres, DatabaseKind::Sqlite];

/// The store of `database`, ready to use. An unsupported URL stops here, naming
/// `database.url` (never printing it: it may hold a password).
pub async fn connect(database: &DatabaseConfig) -> anyhow::Result<Arc<dyn AnalyticsStore>> {
    match database.validate_for(DATABASE_KINDS)? {
        DatabaseKind::Postgres => {
            let pool = database
                .connect()
                .await
                .context("connecting to PostgreSQL (database.url)")?;
            let store = PostgresStore::new(pool);
            if database.migrate {
                if let Err(error) = store.migrate().await {
                    store.pool().close().await;
                    return Err(error).context("applying database migrations");
                }
            }
            Ok(Arc::new(store))
        }
        DatabaseKind::Sqlite => Ok(Arc::new(
            SqliteStore::open(&database.url, database.max_connections, database.migrate).await?,
        )),
    }
}
