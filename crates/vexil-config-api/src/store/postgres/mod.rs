//! The store on PostgreSQL: the schema `config` (`migrations/`, history in
//! `config._sqlx_migrations`), one file of SQL per table family, every query checked at
//! compile time against it (offline data in `.sqlx/`).
//!
//! A write session is a transaction (`session.rs`). Writes only queue their FlagSync
//! change and audit entry; the sequencer (`sequencer.rs`, `sequencing.rs`) numbers and
//! chains them after commit under an advisory lock, so concurrent writers of one
//! environment never wait for each other, and the `config.changes` insert trigger's
//! NOTIFY reaches every replica's LISTEN task (`listener.rs`), which publishes on the hub.

mod approvals;
mod audit;
mod changes;
mod credentials;
mod environments;
mod flags;
mod listener;
mod projects;
mod read;
mod scheduled_changes;
mod segments;
mod sequencer;
mod sequencing;
mod session;
mod tokens;
mod write;

use std::sync::OnceLock;

use async_trait::async_trait;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::{ConfigRead, ConfigStore, ConfigWrite, StoreResult};
use crate::sync::ChangeHub;
use sequencer::Sequencer;
use session::PgSession;

/// The schema config-api owns, and where its migration history lives.
pub const SCHEMA: &str = "config";

/// config-api's data in PostgreSQL. Every replica of the service may share the database.
pub struct PostgresStore {
    pool: PgPool,
    /// Set by `start`; before that, `flush` runs the batches itself.
    sequencer: OnceLock<Sequencer>,
}

impl PostgresStore {
    /// A store on `pool`, as it is: see [`PostgresStore::migrate`].
    pub fn new(pool: PgPool) -> PostgresStore {
        PostgresStore {
            pool,
            sequencer: OnceLock::new(),
        }
    }

    /// Applies pending migrations of the schema `config`.
    pub async fn migrate(&self) -> Result<(), vexil_service::migrations::MigrateError> {
        vexil_service::migrations::run(&self.pool, SCHEMA, &sqlx::migrate!()).await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl ConfigStore for PostgresStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn start(&self, hub: ChangeHub, shutdown: CancellationToken) -> StoreResult<()> {
        if self.sequencer.get().is_some() {
            tracing::warn!("the PostgreSQL store was already started; ignoring the second start");
            return Ok(());
        }
        // Listen first: a change the sequencer numbers from now on is published.
        listener::start(self.pool.clone(), hub, shutdown.clone()).await?;
        let _ = self
            .sequencer
            .set(Sequencer::start(self.pool.clone(), shutdown));
        Ok(())
    }

    async fn read(&self) -> StoreResult<Box<dyn ConfigRead>> {
        Ok(Box::new(PgSession::new(self.pool.acquire().await?)))
    }

    async fn read_snapshot(&self) -> StoreResult<Box<dyn ConfigRead>> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *transaction)
            .await?;
        Ok(Box::new(PgSession::new(transaction)))
    }

    async fn write(&self) -> StoreResult<Box<dyn ConfigWrite>> {
        Ok(Box::new(PgSession::new(self.pool.begin().await?)))
    }

    async fn flush(&self) {
        match self.sequencer.get() {
            Some(sequencer) => sequencer.flush().await,
            // Not started (a tool or a test on the bare store): number and chain here.
            None => sequencer::drain(&self.pool).await,
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
