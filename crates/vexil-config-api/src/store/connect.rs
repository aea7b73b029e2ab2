//! Opens the store `database.url` names, applying migrations when `database.migrate` is
//! set.

use std::sync::Arc;

use anyhow::Context;
use vexil_service::database::{DatabaseConfig, DatabaseKind};

use super::{ConfigStore, PostgresStore};

/// The databases config-api runs on. (SQLite joins here with `store/sqlite/`: one more
/// kind, and one more arm in `connect`.)
pub const DATABASE_KINDS: &[DatabaseKind] = &[DatabaseKind::Postgres];

/// The store of `database`, migrated and ready to start. An unsupported URL stops here,
/// naming `database.url` (never printing it: it may hold a password).
pub async fn connect(database: &DatabaseConfig) -> anyhow::Result<Arc<dyn ConfigStore>> {
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
        DatabaseKind::Sqlite => Err(anyhow::anyhow!(
            "database.url: config-api does not run on SQLite yet; use a postgres:// URL"
        )),
    }
}
