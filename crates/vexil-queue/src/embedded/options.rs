//! The embedded log's settings, with defaults suited to one machine running `vexil up`.

use std::time::Duration;

/// Settings of an [`super::EmbeddedQueue`]. Only `partitions` is remembered: the count a
/// topic was created with stays, whatever later opens ask for.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Partitions of each topic this queue creates (default 8).
    pub partitions: u32,
    /// A segment file is closed and a new one started once it holds this many bytes
    /// (default 64 MiB). Release deletes whole segments, so this is also the granularity
    /// at which disk space comes back.
    pub segment_bytes: u64,
    /// How long an append waits for its records to be synced (default 10 s).
    pub append_timeout: Duration,
    /// The largest record accepted, key, value and headers together (default 8 MiB).
    pub max_record_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> EmbeddedOptions {
        EmbeddedOptions {
            partitions: 8,
            segment_bytes: 64 << 20,
            append_timeout: Duration::from_secs(10),
            max_record_bytes: 8 << 20,
        }
    }
}
