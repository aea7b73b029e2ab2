//! What the read queries answer, the same from every store. Times are `OffsetDateTime`s at
//! the precision the worker writes them (whole milliseconds).

use time::OffsetDateTime;

/// One (bucket, variation) cell of a flag's usage; `variation` is -1 for "none".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCell {
    pub bucket_start: OffsetDateTime,
    pub variation: i32,
    pub count: i64,
}

/// A context seen (never an anonymous one), for the contexts listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRow {
    pub kind: String,
    pub key: String,
    pub name: Option<String>,
    pub last_seen_at: OffsetDateTime,
}

/// A flag's evaluations since some time: distinct variation indexes served (not counting
/// "none") and evaluations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagActivity {
    pub flag_key: String,
    pub variations_served: i64,
    pub evaluations: i64,
}

/// One variation's experiment units and sufficient statistics for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct VariationStatisticsRow {
    pub variation: i32,
    pub units: i64,
    pub conversions: i64,
    pub value_sum: f64,
    pub value_sum_squares: f64,
}
