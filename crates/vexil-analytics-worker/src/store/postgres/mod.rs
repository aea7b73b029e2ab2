//! The store on PostgreSQL: the schema `analytics` (`migrations/`, history in
//! `analytics._sqlx_migrations`), every query checked at compile time against it (offline
//! data in `.sqlx/`). `batch::commit` writes a partition batch in one transaction; the
//! offset row it upserts is locked until commit, which serialises the writers of a partition.

mod aggregates;
mod batch;
mod dedup;
mod experiments;
mod offsets;
mod queries;

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    AnalyticsStore, CommitOutcome, ContextRow, FlagActivity, PartitionBatch, StoreError, UsageCell,
    VariationStatisticsRow,
};
use crate::stats::hll::HyperLogLog;

/// The schema the worker owns, and where its migration history lives.
pub const SCHEMA: &str = "analytics";

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A store on `pool`, as it is: see [`PostgresStore::migrate`].
    pub fn new(pool: PgPool) -> PostgresStore {
        PostgresStore { pool }
    }

    /// Applies pending migrations of the schema `analytics`.
    pub async fn migrate(&self) -> Result<(), vexil_service::migrations::MigrateError> {
        vexil_service::migrations::run(&self.pool, SCHEMA, &sqlx::migrate!()).await
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl AnalyticsStore for PostgresStore {
    async fn load_offsets(&self, topic: &str) -> Result<HashMap<i32, i64>, StoreError> {
        Ok(offsets::load(&self.pool, topic).await?)
    }

    async fn commit(&self, batch: &PartitionBatch) -> Result<CommitOutcome, StoreError> {
        batch::commit(&self.pool, batch).await
    }

    async fn prune_seen_payloads(&self, retention: Duration) -> Result<u64, StoreError> {
        Ok(dedup::prune(&self.pool, retention).await?)
    }

    async fn flag_usage(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        bucket_ms: i64,
    ) -> Result<Vec<UsageCell>, StoreError> {
        Ok(queries::flag_usage(&self.pool, environment_id, flag_key, from, to, bucket_ms).await?)
    }

    async fn distinct_contexts(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<HyperLogLog, StoreError> {
        Ok(queries::distinct_contexts(&self.pool, environment_id, flag_key, from, to).await?)
    }

    async fn last_evaluated(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
    ) -> Result<Vec<(String, OffsetDateTime)>, StoreError> {
        Ok(queries::last_evaluated(&self.pool, environment_id, flag_keys).await?)
    }

    async fn contexts(
        &self,
        environment_id: Uuid,
        kind: Option<&str>,
        after: Option<&ContextRow>,
        limit: i64,
    ) -> Result<Vec<ContextRow>, StoreError> {
        Ok(queries::contexts(&self.pool, environment_id, kind, after, limit).await?)
    }

    async fn flag_activity(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
        since: OffsetDateTime,
    ) -> Result<Vec<FlagActivity>, StoreError> {
        Ok(queries::flag_activity(&self.pool, environment_id, flag_keys, since).await?)
    }

    async fn experiment_statistics(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        metric_key: &str,
    ) -> Result<Vec<VariationStatisticsRow>, StoreError> {
        Ok(
            queries::experiment_statistics(&self.pool, environment_id, flag_key, metric_key)
                .await?,
        )
    }

    async fn experiment_metric_keys(
        &self,
        environment_id: Uuid,
        flag_key: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(queries::experiment_metric_keys(&self.pool, environment_id, flag_key).await?)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
