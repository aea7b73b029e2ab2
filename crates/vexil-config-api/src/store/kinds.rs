//! The kinds stored as text in their columns (`changes.kind`, `sdk_credentials.kind`,
//! `tombstones.item_kind`), with their one spelling.

use serde::{Deserialize, Serialize};

use crate::secrets;

/// What changed; stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    FlagUpsert,
    FlagDeleted,
    SegmentUpsert,
    SegmentDeleted,
    CredentialChanged,
    EnvironmentDeleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::FlagUpsert => "flag_upsert",
            ChangeKind::FlagDeleted => "flag_deleted",
            ChangeKind::SegmentUpsert => "segment_upsert",
            ChangeKind::SegmentDeleted => "segment_deleted",
            ChangeKind::CredentialChanged => "credential_changed",
            ChangeKind::EnvironmentDeleted => "environment_deleted",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeKind> {
        [
            ChangeKind::FlagUpsert,
            ChangeKind::FlagDeleted,
            ChangeKind::SegmentUpsert,
            ChangeKind::SegmentDeleted,
            ChangeKind::CredentialChanged,
            ChangeKind::EnvironmentDeleted,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// The three kinds of credential an environment has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CredentialKind {
    /// Server-side SDK key (secret).
    Server,
    /// Mobile key (secret).
    Mobile,
    /// Client-side ID (public).
    Client,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Server => "server",
            CredentialKind::Mobile => "mobile",
            CredentialKind::Client => "client",
        }
    }

    pub fn parse(text: &str) -> Option<CredentialKind> {
        match text {
            "server" => Some(CredentialKind::Server),
            "mobile" => Some(CredentialKind::Mobile),
            "client" => Some(CredentialKind::Client),
            _ => None,
        }
    }

    /// A fresh secret of this kind.
    pub fn generate(self) -> String {
        match self {
            CredentialKind::Server => secrets::new_sdk_key(secrets::SDK_KEY_PREFIX),
            CredentialKind::Mobile => secrets::new_sdk_key(secrets::MOBILE_KEY_PREFIX),
            CredentialKind::Client => secrets::new_client_side_id(),
        }
    }
}

/// Which kind of item a tombstone belongs to.
#[derive(Debug, Clone, Copy)]
pub enum ItemKind {
    Flag,
    Segment,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Flag => "flag",
            ItemKind::Segment => "segment",
        }
    }
}
