//! The audit log's pure parts: what an entry holds, its hash chain and its readable diff.
//! No I/O: `store/audit.rs` writes and reads the rows.

mod chain;
mod diff;

pub use chain::{entry_hash, format_timestamp, GENESIS_HASH};
pub use diff::readable_diff;

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
