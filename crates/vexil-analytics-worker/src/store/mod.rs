//! The SQL: every query checked at compile time against `migrations/` (offline data in
//! `.sqlx/`). Writes happen in `batch::commit`, one transaction per partition batch;
//! `queries` reads for the gRPC service.

pub mod aggregates;
pub mod batch;
pub mod dedup;
pub mod experiments;
pub mod offsets;
pub mod queries;

use time::OffsetDateTime;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
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
