//! What the store's read functions return, one type per row shape, gathered here so every
//! store fills the same types and the rest of the service never sees which store answered.
//! Times are at microsecond precision (see [`super::now`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
/// The JSON column wrapper the rows use, re-exported so callers need not name the driver.
pub use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::kinds::CredentialKind;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: Uuid,
    pub key: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub id: Uuid,
    #[serde(skip)]
    pub project_id: Uuid,
    pub key: String,
    pub name: String,
    /// Critical environments take flag changes only through approval requests.
    #[serde(rename = "critical")]
    pub is_critical: bool,
    /// The FlagSync sequence number of the last committed change.
    pub sequence: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One variation as the project defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The project-level part of a flag.
#[derive(Debug, Clone)]
pub struct FlagRow {
    pub id: Uuid,
    pub project_id: Uuid,
    pub key: String,
    pub name: String,
    pub description: String,
    pub kind: String,
    pub variations: Json<Vec<Variation>>,
    pub tags: Vec<String>,
    pub maintainer: Option<String>,
    pub is_temporary: bool,
    pub using_mobile_key: bool,
    pub using_environment_id: bool,
    pub is_archived: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl FlagRow {
    /// The flag exactly as SDKs receive it in one environment: the environment's
    /// targeting with the project's fields and the environment's version.
    pub fn sdk_flag(&self, environment: &FlagEnvironmentRow) -> vexil_eval::Flag {
        let mut flag = environment.config.0.clone();
        flag.key = self.key.clone();
        flag.version = u64::try_from(environment.version).expect("versions are positive");
        flag.variations = self.variations.iter().map(|v| v.value.clone()).collect();
        flag.client_side_availability = Some(vexil_eval::ClientSideAvailability {
            using_mobile_key: self.using_mobile_key,
            using_environment_id: self.using_environment_id,
        });
        flag.deleted = false;
        flag.canonicalize();
        flag
    }
}

/// A flag's targeting in one environment.
#[derive(Debug, Clone)]
pub struct FlagEnvironmentRow {
    pub environment_id: Uuid,
    pub environment_key: String,
    pub version: i64,
    pub config: Json<vexil_eval::Flag>,
    pub updated_at: OffsetDateTime,
}

/// A temporary flag that may be stale: its key, name and creation time.
#[derive(Debug, Clone)]
pub struct StaleCandidate {
    pub key: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SegmentRow {
    pub id: Uuid,
    pub environment_id: Uuid,
    pub key: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub version: i64,
    pub data: Json<vexil_eval::Segment>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl SegmentRow {
    /// The segment exactly as SDKs receive it.
    pub fn sdk_segment(&self) -> vexil_eval::Segment {
        let mut segment = self.data.0.clone();
        segment.key = self.key.clone();
        segment.version = u64::try_from(self.version).expect("versions are positive");
        segment.deleted = false;
        segment
    }
}

/// One row of the outbox.
#[derive(Debug, Clone)]
pub struct Change {
    pub environment_id: Uuid,
    pub sequence: i64,
    pub kind: String,
    pub key: String,
    pub version: i64,
    pub payload: Vec<u8>,
}

/// A stored credential. For client-side IDs, `hint` is the whole (public) value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub id: Uuid,
    #[serde(skip)]
    pub environment_id: Uuid,
    pub kind: String,
    #[serde(skip)]
    pub sha256: Vec<u8>,
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Credential {
    pub fn kind(&self) -> CredentialKind {
        CredentialKind::parse(&self.kind).expect("the database constrains kind")
    }

    /// Not revoked and not past its expiry at `now`.
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expiry| expiry > now)
    }
}

/// Where a presented credential belongs.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub environment_id: Uuid,
    pub project_key: String,
    pub environment_key: String,
    pub kind: CredentialKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub project_keys: Option<Vec<String>>,
    pub environment_keys: Option<Vec<String>>,
    pub can_bypass_approvals: bool,
    pub hint: String,
    #[serde(rename = "bootstrap")]
    pub is_bootstrap: bool,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequest {
    pub id: Uuid,
    #[serde(skip)]
    pub flag_id: Uuid,
    #[serde(skip)]
    pub environment_id: Uuid,
    pub flag_key: String,
    pub environment_key: String,
    pub instructions: Json<Value>,
    pub comment: String,
    /// pending, approved, declined or applied.
    pub status: String,
    pub requested_by_token_id: Option<Uuid>,
    pub requested_by_name: String,
    pub reviewed_by_token_id: Option<Uuid>,
    pub reviewed_by_name: Option<String>,
    pub review_comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledChange {
    pub id: Uuid,
    #[serde(skip)]
    pub flag_id: Uuid,
    #[serde(skip)]
    pub environment_id: Uuid,
    #[serde(skip)]
    pub project_id: Uuid,
    pub flag_key: String,
    pub environment_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub execute_at: OffsetDateTime,
    pub instructions: Json<Value>,
    pub comment: String,
    /// pending, applied, failed or cancelled.
    pub status: String,
    pub created_by_token_id: Option<Uuid>,
    pub created_by_name: String,
    pub failure_reason: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub applied_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}
