//! REST representations of stored objects, shared by the routes and the audit log (which
//! records the same JSON the API shows).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::store::rows::{FlagEnvironmentRow, FlagRow, SegmentRow, Variation};

/// A flag as `GET /projects/{p}/flags/{key}` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagView<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub kind: &'a str,
    pub variations: &'a [Variation],
    pub tags: &'a [String],
    pub maintainer: Option<&'a str>,
    pub temporary: bool,
    pub client_side_availability: ClientSideAvailabilityView,
    pub archived: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Per environment key, the flag exactly as SDKs receive it there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environments: Option<BTreeMap<String, vexil_eval::Flag>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSideAvailabilityView {
    pub using_mobile_key: bool,
    pub using_environment_id: bool,
}

impl<'a> FlagView<'a> {
    /// The project-level fields only.
    pub fn project_fields(flag: &'a FlagRow) -> Self {
        FlagView {
            key: &flag.key,
            name: &flag.name,
            description: &flag.description,
            kind: &flag.kind,
            variations: &flag.variations,
            tags: &flag.tags,
            maintainer: flag.maintainer.as_deref(),
            temporary: flag.is_temporary,
            client_side_availability: ClientSideAvailabilityView {
                using_mobile_key: flag.using_mobile_key,
                using_environment_id: flag.using_environment_id,
            },
            archived: flag.is_archived,
            created_at: flag.created_at,
            updated_at: flag.updated_at,
            environments: None,
        }
    }

    /// The project-level fields and every environment's targeting.
    pub fn with_environments(flag: &'a FlagRow, environments: &[FlagEnvironmentRow]) -> Self {
        FlagView {
            environments: Some(
                environments
                    .iter()
                    .map(|row| (row.environment_key.clone(), flag.sdk_flag(row)))
                    .collect(),
            ),
            ..FlagView::project_fields(flag)
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a flag view always serializes")
    }
}

/// A segment as the segment routes show it: LaunchDarkly segment JSON plus the
/// descriptive fields SDKs never see.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentView {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    #[serde(flatten)]
    pub segment: vexil_eval::Segment,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl SegmentView {
    pub fn new(row: &SegmentRow) -> Self {
        SegmentView {
            name: row.name.clone(),
            description: row.description.clone(),
            tags: row.tags.clone(),
            segment: row.sdk_segment(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a segment view always serializes")
    }
}

/// Any serializable value as JSON, for audit records.
pub fn json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("API values always serialize")
}
