//! Opens the store `database.url` names, applying migrations when `database.migrate` is
//! set.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use sqlx::sqlite::SqliteConnectOptions;
use vexil_service::database::{DatabaseConfig, DatabaseKind};

use super::{ConfigStore, PostgresStore, SqliteStore};

/// The databases config-api runs on: PostgreSQL for deployments, a SQLite file for
/// `vexil up` (one process: its watchers learn of changes at commit, not through the
/// database).
pub const DATABASE_KINDS: &[DatabaseKind] = &[DatabaseKind::Postgres, DatabaseKind::Sqlite];

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
        DatabaseKind::Sqlite => {
            let path = sqlite_path(&database.url)?;
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("opening the SQLite database {}", path.display()))?;
            Ok(Arc::new(store))
        }
    }
}

/// The file a `sqlite://path` or `sqlite:path` URL names (percent-decoded, as the driver
/// reads it). The SQLite store always migrates: its schema is this binary's, and nobody
/// else migrates a file only this process may open.
fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let options: SqliteConnectOptions = url
        .parse()
        .context("database.url is not a valid SQLite URL")?;
    let path = options.get_filename();
    if url.contains(":memory:") || path.as_os_str().is_empty() {
        anyhow::bail!(
            "database.url names an in-memory SQLite database, which would lose everything at \
             exit; name a file (sqlite://path/to/config.db)"
        );
    }
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn both_url_forms_name_the_same_file() {
        assert_eq!(
            sqlite_path("sqlite://vexil-data/config.db").unwrap(),
            Path::new("vexil-data/config.db")
        );
        assert_eq!(
            sqlite_path("sqlite:vexil-data/config.db").unwrap(),
            Path::new("vexil-data/config.db")
        );
        assert_eq!(
            sqlite_path("sqlite:///srv/vexil%3F/config.db").unwrap(),
            Path::new("/srv/vexil?/config.db")
        );
    }

    #[test]
    fn an_in_memory_database_is_refused_naming_the_key() {
        let message = sqlite_path("sqlite::memory:").unwrap_err().to_string();
        assert!(
            message.starts_with("database.url names an in-memory"),
            "{message}"
        );
    }
}
