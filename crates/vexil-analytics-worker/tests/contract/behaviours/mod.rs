//! One async function per behaviour of `AnalyticsStore`, each run against every store.

pub mod contexts;
pub mod dedup;
pub mod experiments;
pub mod offsets;
pub mod stale;
pub mod usage;
