//! The audit log's pure parts: what an entry holds, the entry queued for a mutation
//! (`queue`), its hash chain (`chain`), linking queued entries onto the chain (`link`),
//! checking stored entries against it (`check`) and its readable diff. No SQL and no I/O:
//! `store/postgres/audit.rs` and `store/postgres/sequencing.rs` write and read the rows and
//! call these, so a second store chains and verifies exactly alike.

mod chain;
mod check;
mod diff;
mod link;
mod queue;
#[cfg(test)]
mod test_entries;

pub use chain::{entry_hash, format_timestamp, GENESIS_HASH};
pub use check::{check_entry, BrokenEntry, ChainProblem, Verification};
pub use diff::readable_diff;
pub use link::{link, ChainHead};
pub use queue::{queued_entry, AuditRecord, QueuedEntry};

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// One audit log entry, as stored and as served by `/api/v1/audit-log`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub sequence: i64,
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_token_id: Option<Uuid>,
    pub actor_name: String,
    /// `flag.create`, `flag.update`, `segment.delete`, `token.revoke`, ...
    pub action: String,
    /// A path naming the object: `projects/default/environments/production/flags/checkout`.
    pub resource: String,
    pub project_key: Option<String>,
    pub environment_key: Option<String>,
    pub flag_key: Option<String>,
    pub segment_key: Option<String>,
    /// Canonical JSON of the object before and after; `None` for creation and deletion.
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub diff: String,
    pub comment: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    #[serde(with = "hex_bytes")]
    pub previous_hash: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub hash: Vec<u8>,
}

mod hex_bytes {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }
}
