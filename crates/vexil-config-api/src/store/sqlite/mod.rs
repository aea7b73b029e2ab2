//! The store on SQLite, for `vexil up` with no database server: one file of config-api's
//! own (`migrations_sqlite/`, whose first migration says how values are represented), its
//! queries checked at run time (the contract suite runs every method, and prepares every
//! statement of this directory against the migrated schema).
//!
//! One process, one writer:
//! - `open` takes an OS lock on `{file}.lock`, so no second process (or store) writes the
//!   file: its commits would never reach this process's watchers.
//! - Every write session is the one writer connection's `BEGIN IMMEDIATE` transaction,
//!   behind an async gate held until the session commits or is dropped. The write lock is
//!   held from the first statement, so no row locks are needed (`_for_update` reads are
//!   plain reads), and numbering changes (`environments.sequence`) and chaining audit
//!   entries happen inside the transaction: no queues, no sequencer, `flush` has nothing
//!   to wait for.
//! - A write session publishes its changes on the hub after commit and before opening the
//!   gate, so watchers see every change, in commit order; a rolled-back one publishes
//!   nothing. A task holding a write session must not ask for another: it would wait for
//!   itself.
//! - Reads use a pool of their own; in WAL mode they never wait for the writer and see
//!   committed data only. `read_snapshot` is a deferred transaction whose snapshot is
//!   taken when it opens.
//! - WAL with `synchronous=FULL`: a commit returns once the WAL is on disk, so it survives
//!   a process kill and a power loss alike.

mod approvals;
mod audit;
mod changes;
mod credentials;
mod environments;
mod flag_environments;
mod flags;
mod lock;
mod projects;
mod scheduled_changes;
mod segments;
mod session;
mod tokens;
mod tombstones;
mod values;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio_util::sync::CancellationToken;

pub use lock::AlreadyOpen;

use self::lock::DatabaseLock;
use self::session::Session;
use self::write::Writing;
use crate::store::{ConfigRead, ConfigStore, ConfigWrite, StoreError, StoreResult};
use crate::sync::ChangeHub;

/// How long a statement waits for a lock on the file before failing. Within one process
/// only a checkpoint or an open snapshot can make it wait, briefly.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many read sessions may be open at once; more wait for one to end.
pub const MAX_READERS: u32 = 8;

/// The hub committed changes are published on, once `start` gave one.
type HubSlot = Arc<Mutex<Option<ChangeHub>>>;

/// config-api's data in one SQLite file. Share it as `Arc<dyn ConfigStore>`.
pub struct SqliteStore {
    path: PathBuf,
    reader: SqlitePool,
    /// One connection: the only one that writes.
    writer: SqlitePool,
    /// Held by the open write session, from before its `BEGIN IMMEDIATE` until after its
    /// changes are published (or its rollback is queued).
    gate: Arc<tokio::sync::Mutex<()>>,
    hub: HubSlot,
    /// Released by `close`, or when the store drops.
    lock: Mutex<Option<DatabaseLock>>,
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it and its directory when missing, and
    /// applies pending migrations. Fails with [`AlreadyOpen`] (as
    /// `sqlx::Error::Configuration`) while another process or store has it open.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(directory) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(directory).map_err(|source| {
                StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                    source.kind(),
                    format!(
                        "creating the directory {} of the SQLite database: {source}",
                        directory.display()
                    ),
                )))
            })?;
        }
        let lock = DatabaseLock::acquire(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations_sqlite")
            .run(&writer)
            .await
            .map_err(|error| StoreError::Database(sqlx::Error::Migrate(Box::new(error))))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(MAX_READERS)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            reader,
            writer,
            gate: Arc::new(tokio::sync::Mutex::new(())),
            hub: Arc::new(Mutex::new(None)),
            lock: Mutex::new(Some(lock)),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl ConfigStore for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    /// Remembers `hub`: changes committed from now on are published on it. There is no
    /// background work, so `shutdown` has nothing to stop.
    async fn start(&self, hub: ChangeHub, _shutdown: CancellationToken) -> StoreResult<()> {
        *self.hub.lock().unwrap_or_else(PoisonError::into_inner) = Some(hub);
        Ok(())
    }

    async fn read(&self) -> StoreResult<Box<dyn ConfigRead>> {
        let connection = self.reader.acquire().await?;
        Ok(Box::new(Session::new(connection)))
    }

    async fn read_snapshot(&self) -> StoreResult<Box<dyn ConfigRead>> {
        let mut transaction = self.reader.begin().await?;
        // A deferred transaction takes its snapshot at its first read: read now, so the
        // snapshot is the database as of this call.
        sqlx::query(r#"SELECT count(*) FROM sqlite_master"#)
            .fetch_one(&mut *transaction)
            .await?;
        Ok(Box::new(Session::new(transaction)))
    }

    async fn write(&self) -> StoreResult<Box<dyn ConfigWrite>> {
        let gate = self.gate.clone().lock_owned().await;
        let transaction = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(Session::new(Writing::new(
            transaction,
            self.hub.clone(),
            gate,
        ))))
    }

    /// Nothing to wait for: a write is numbered, chained and published by its commit.
    async fn flush(&self) {}

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
        self.lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }
}
