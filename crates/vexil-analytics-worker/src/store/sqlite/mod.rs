//! The store on SQLite, for `vexil up`'s embedded mode: one file of the worker's own
//! (`migrations_sqlite/`, which also says how values are represented), queries checked at
//! run time (the contract tests run every one of them).
//!
//! Durability and isolation, the same promises as on PostgreSQL:
//! - WAL journal with `synchronous=FULL`: a commit returns only once the WAL is on disk, so
//!   a committed batch survives a process kill and a power loss alike. (NORMAL would survive
//!   a kill too, but not a power cut; the embedded mode's event rates do not need the gain.)
//! - One writer: every write goes through a pool of one connection, and each batch is one
//!   `BEGIN IMMEDIATE` transaction, which takes the file's write lock before its first read,
//!   so the offset check and everything after it cannot interleave with another writer (a
//!   second process on the same file waits up to [`BUSY_TIMEOUT`], then fails the batch,
//!   which the consumer retries). Readers use their own pool and see committed data only.

mod aggregates;
mod batch;
mod dedup;
mod experiments;
mod offsets;
mod queries;

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    AnalyticsStore, CommitOutcome, ContextRow, FlagActivity, PartitionBatch, StoreError, UsageCell,
    VariationStatisticsRow,
};
use crate::stats::hll::HyperLogLog;

/// How long a write waits for another connection's lock on the file before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the SQLite store could not open; each message names `database.url`.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("database.url is not a valid SQLite URL")]
    Url(#[source] sqlx::Error),
    #[error("creating the directory {path} of the SQLite database (database.url)")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("opening the SQLite database {path} (database.url)")]
    Connect {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("applying the SQLite migrations to {path} (database.url)")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// One connection: the only one that writes.
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens the database file `url` names (`sqlite://path` or `sqlite:path`), creating it
    /// and its parent directory when missing, with up to `max_connections` readers; applies
    /// pending migrations when `migrate`.
    pub async fn open(
        url: &str,
        max_connections: u32,
        migrate: bool,
    ) -> Result<SqliteStore, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(OpenError::Url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        let path = options.get_filename().to_path_buf();
        if let Some(directory) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(directory).map_err(|source| OpenError::Directory {
                path: directory.to_path_buf(),
                source,
            })?;
        }
        let connect_error = |source| OpenError::Connect {
            path: path.clone(),
            source,
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(connect_error)?;
        if migrate {
            sqlx::migrate!("./migrations_sqlite")
                .run(&writer)
                .await
                .map_err(|source| OpenError::Migrate {
                    path: path.clone(),
                    source,
                })?;
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(SqliteStore { writer, reader })
    }
}

#[async_trait::async_trait]
impl AnalyticsStore for SqliteStore {
    async fn load_offsets(&self, topic: &str) -> Result<HashMap<i32, i64>, StoreError> {
        offsets::load(&self.reader, topic).await
    }

    async fn commit(&self, batch: &PartitionBatch) -> Result<CommitOutcome, StoreError> {
        batch::commit(&self.writer, batch).await
    }

    async fn prune_seen_payloads(&self, retention: Duration) -> Result<u64, StoreError> {
        Ok(dedup::prune(&self.writer, retention).await?)
    }

    async fn flag_usage(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        bucket_ms: i64,
    ) -> Result<Vec<UsageCell>, StoreError> {
        Ok(
            queries::flag_usage(&self.reader, environment_id, flag_key, from, to, bucket_ms)
                .await?,
        )
    }

    async fn distinct_contexts(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<HyperLogLog, StoreError> {
        Ok(queries::distinct_contexts(&self.reader, environment_id, flag_key, from, to).await?)
    }

    async fn last_evaluated(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
    ) -> Result<Vec<(String, OffsetDateTime)>, StoreError> {
        Ok(queries::last_evaluated(&self.reader, environment_id, flag_keys).await?)
    }

    async fn contexts(
        &self,
        environment_id: Uuid,
        kind: Option<&str>,
        after: Option<&ContextRow>,
        limit: i64,
    ) -> Result<Vec<ContextRow>, StoreError> {
        Ok(queries::contexts(&self.reader, environment_id, kind, after, limit).await?)
    }

    async fn flag_activity(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
        since: OffsetDateTime,
    ) -> Result<Vec<FlagActivity>, StoreError> {
        Ok(queries::flag_activity(&self.reader, environment_id, flag_keys, since).await?)
    }

    async fn experiment_statistics(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        metric_key: &str,
    ) -> Result<Vec<VariationStatisticsRow>, StoreError> {
        Ok(
            queries::experiment_statistics(&self.reader, environment_id, flag_key, metric_key)
                .await?,
        )
    }

    async fn experiment_metric_keys(
        &self,
        environment_id: Uuid,
        flag_key: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(queries::experiment_metric_keys(&self.reader, environment_id, flag_key).await?)
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Now, as Unix milliseconds (the representation of every time in the file).
fn now_ms() -> i64 {
    super::unix_ms(OffsetDateTime::now_utc())
}
