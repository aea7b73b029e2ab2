//! Where the worker keeps its offsets and aggregates: the [`AnalyticsStore`] trait, with
//! exactly the operations the consumer, the pruner and the gRPC service need, and its two
//! implementations, picked by `database.url` in [`connect`]:
//!
//! - `postgres/`: the schema `analytics` (`migrations/`), every query checked at compile
//!   time (offline data in `.sqlx/`). For deployments.
//! - `sqlite/`: one file (`migrations_sqlite/`), runtime-checked queries. For `vexil up`'s
//!   embedded mode.
//!
//! Both hold the same guarantees: one transaction per partition batch (`commit`), an offset
//! that only moves from where the batch starts (fencing), payload de-duplication, and
//! answers that agree (the contract tests in `tests/contract/` run against both). What both
//! share that is not SQL is here too: `batch` (the batch and its folding) and
//! `experiment_join` (the pure half of the experiment statistics).

pub mod batch;
mod connect;
pub mod experiment_join;
pub mod postgres;
pub mod rows;
pub mod sqlite;

use std::collections::HashMap;
use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

pub use batch::{Candidate, CommitOutcome, PartitionBatch, PayloadKey};
pub use connect::{connect, DATABASE_KINDS};
pub use postgres::PostgresStore;
pub use rows::{ContextRow, FlagActivity, UsageCell, VariationStatisticsRow};
pub use sqlite::SqliteStore;

use crate::stats::hll::HyperLogLog;

/// The worker's storage. Every method is one transaction (or one read); implementations are
/// cheap to share behind an `Arc`.
#[async_trait::async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Every stored offset of `topic`, by partition: where consumption resumes.
    async fn load_offsets(&self, topic: &str) -> Result<HashMap<i32, i64>, StoreError>;

    /// Writes the batch in one transaction: moves the partition's offset to
    /// `batch.next_offset` if it stood at `batch.first_offset` (or nothing was stored), claims
    /// its payload keys, and adds the events not claimed before (in an earlier batch or
    /// earlier in this one) to every aggregate. When the offset stood elsewhere nothing is
    /// written and the answer is [`CommitOutcome::Fenced`] with the stored offset.
    async fn commit(&self, batch: &PartitionBatch) -> Result<CommitOutcome, StoreError>;

    /// Forgets payload keys claimed more than `retention` ago; returns how many.
    async fn prune_seen_payloads(&self, retention: Duration) -> Result<u64, StoreError>;

    /// The flag's evaluations with `from <= bucket start < to`, summed into buckets of
    /// `bucket_ms` (aligned on the Unix epoch) per variation, ordered by bucket, variation.
    async fn flag_usage(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        bucket_ms: i64,
    ) -> Result<Vec<UsageCell>, StoreError>;

    /// The union of the flag's distinct-context sketches of the UTC days `from..=to`.
    async fn distinct_contexts(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        from: time::Date,
        to: time::Date,
    ) -> Result<HyperLogLog, StoreError>;

    /// When each of `flag_keys` that was ever evaluated was last evaluated (no order).
    async fn last_evaluated(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
    ) -> Result<Vec<(String, OffsetDateTime)>, StoreError>;

    /// Up to `limit` contexts (of `kind`, when given), most recently seen first (then kind
    /// and key, descending), strictly after `after` in that order.
    async fn contexts(
        &self,
        environment_id: Uuid,
        kind: Option<&str>,
        after: Option<&ContextRow>,
        limit: i64,
    ) -> Result<Vec<ContextRow>, StoreError>;

    /// Per flag of `flag_keys` evaluated in a bucket starting at or after `since` (no order).
    async fn flag_activity(
        &self,
        environment_id: Uuid,
        flag_keys: &[String],
        since: OffsetDateTime,
    ) -> Result<Vec<FlagActivity>, StoreError>;

    /// Per variation with units, ordered by variation: units and the metric's statistics
    /// (zero when no unit of the variation converted).
    async fn experiment_statistics(
        &self,
        environment_id: Uuid,
        flag_key: &str,
        metric_key: &str,
    ) -> Result<Vec<VariationStatisticsRow>, StoreError>;

    /// The metrics with at least one conversion for the experiment flag, sorted.
    async fn experiment_metric_keys(
        &self,
        environment_id: Uuid,
        flag_key: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// Closes the store's connections, waiting for the ones in use.
    async fn close(&self);
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A stored value this code could not have written (a hand-edited SQLite file, say).
    #[error("{table}.{column} holds a value this worker cannot read")]
    Corrupt {
        table: &'static str,
        column: &'static str,
    },
}

/// Unix milliseconds as a timestamp, clamped to years 1970-9999 (SDK clocks can be wrong,
/// and a nonsense date must not stop the partition).
pub fn time_of(unix_ms: i64) -> OffsetDateTime {
    const MAX_MS: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z
    let clamped = unix_ms.clamp(0, MAX_MS);
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(clamped) * 1_000_000)
        .expect("a clamped timestamp is in range")
}

/// A timestamp as Unix milliseconds.
pub fn unix_ms(time: OffsetDateTime) -> i64 {
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A UTC day number (days since 1970-01-01) as a date.
pub fn date_of(day: i32) -> time::Date {
    time_of(i64::from(day) * 86_400_000).date()
}

/// A date as its UTC day number (days since 1970-01-01).
pub fn day_of(date: time::Date) -> i32 {
    let epoch =
        time::Date::from_calendar_date(1970, time::Month::January, 1).expect("the epoch is a date");
    i32::try_from((date - epoch).whole_days()).unwrap_or(i32::MAX)
}
