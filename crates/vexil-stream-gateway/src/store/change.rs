//! What can happen to an environment, and how each change turns one `EnvironmentData`
//! into the next plus the SSE frame that tells connected SDKs about it.

use std::sync::Arc;

use bytes::Bytes;
use rustc_hash::FxHashMap;

use super::credentials::Credential;
use super::environment::EnvironmentData;
use super::frames;
use super::ids::{EnvironmentId, ItemKind};
use super::item::{FlagItem, InvalidItemJson, SegmentItem};
use super::payload::Payload;

/// A flag or segment as it arrives: key, version and LaunchDarkly JSON.
#[derive(Debug, Clone)]
pub struct RawItem {
    pub key: String,
    pub version: u64,
    pub json: Bytes,
}

/// A whole environment, from a config-api snapshot or the copy in Redis.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentContents {
    pub project_key: String,
    pub environment_key: String,
    pub flags: Vec<RawItem>,
    pub segments: Vec<RawItem>,
    /// Tombstones `(kind, key, version)`; config-api snapshots carry none, Redis does.
    pub deleted: Vec<(ItemKind, String, u64)>,
    pub credentials: Vec<Credential>,
}

/// One change to one environment.
#[derive(Debug, Clone)]
pub enum Change {
    /// Replaces everything (tombstones of items that stay absent are kept).
    Replace(EnvironmentContents),
    Upsert {
        kind: ItemKind,
        item: RawItem,
    },
    Delete {
        kind: ItemKind,
        key: String,
        version: u64,
    },
    /// A credential was created, given an expiry, or revoked.
    Credential {
        credential: Credential,
        is_revoked: bool,
    },
}

/// The one flag or segment a change is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedItem {
    pub kind: ItemKind,
    pub key: Arc<str>,
}

impl Change {
    /// The item an `Upsert` or `Delete` is about; `None` for other changes.
    pub fn changed_item(&self) -> Option<ChangedItem> {
        match self {
            Change::Upsert { kind, item } => Some(ChangedItem {
                kind: *kind,
                key: Arc::from(item.key.as_str()),
            }),
            Change::Delete { kind, key, .. } => Some(ChangedItem {
                kind: *kind,
                key: Arc::from(key.as_str()),
            }),
            Change::Replace(_) | Change::Credential { .. } => None,
        }
    }
}

/// What connected streams must do after a change.
#[derive(Debug, Clone)]
pub enum Notice {
    /// Send this frame (a `patch` or `delete`).
    Frame(Bytes),
    /// Send a fresh `put` of the current data.
    Replaced,
    /// Re-check the credential the stream was opened with.
    CredentialsChanged,
    /// Nothing SDKs can see changed.
    None,
}

impl EnvironmentData {
    /// Builds an environment from scratch (`previous`: its tombstones are kept).
    pub(super) fn replaced(
        environment_id: EnvironmentId,
        sequence: u64,
        contents: EnvironmentContents,
        previous: Option<&EnvironmentData>,
    ) -> EnvironmentData {
        let mut flags = FxHashMap::default();
        for raw in contents.flags {
            match FlagItem::parse_flag(&raw.key, raw.version, raw.json) {
                Ok(item) => {
                    flags.insert(Arc::from(raw.key), Arc::new(item));
                }
                Err(error) => log_invalid(&environment_id, &error),
            }
        }
        let mut segments = FxHashMap::default();
        for raw in contents.segments {
            match SegmentItem::parse_segment(&raw.key, raw.version, raw.json) {
                Ok(item) => {
                    segments.insert(Arc::from(raw.key), Arc::new(item));
                }
                Err(error) => log_invalid(&environment_id, &error),
            }
        }
        let (mut deleted_flags, mut deleted_segments) = previous
            .map(|previous| {
                (
                    previous.deleted_flags.clone(),
                    previous.deleted_segments.clone(),
                )
            })
            .unwrap_or_default();
        for (kind, key, version) in contents.deleted {
            let tombstones = match kind {
                ItemKind::Flag => &mut deleted_flags,
                ItemKind::Segment => &mut deleted_segments,
            };
            tombstones.insert(Arc::from(key), version);
        }
        deleted_flags.retain(|key, _| !flags.contains_key(key));
        deleted_segments.retain(|key, _| !segments.contains_key(key));
        let payload = Arc::new(build_payload(&flags, &segments));
        EnvironmentData {
            environment_id,
            project_key: contents.project_key.into(),
            environment_key: contents.environment_key.into(),
            sequence,
            flags,
            segments,
            deleted_flags,
            deleted_segments,
            credentials: contents.credentials.into(),
            payload,
        }
    }

    /// The state after `change`, and what streams must be told.
    pub(super) fn apply(&self, sequence: u64, change: Change) -> (EnvironmentData, Notice) {
        match change {
            Change::Replace(contents) => {
                let data =
                    Self::replaced(self.environment_id.clone(), sequence, contents, Some(self));
                (data, Notice::Replaced)
            }
            Change::Upsert { kind, item } => self.upserted(sequence, kind, item),
            Change::Delete { kind, key, version } => {
                let mut next = self.edit(sequence);
                let key: Arc<str> = Arc::from(key);
                match kind {
                    ItemKind::Flag => {
                        next.flags.remove(&key);
                        next.deleted_flags.insert(key.clone(), version);
                    }
                    ItemKind::Segment => {
                        next.segments.remove(&key);
                        next.deleted_segments.insert(key.clone(), version);
                    }
                }
                next.payload = Arc::new(build_payload(&next.flags, &next.segments));
                let frame = frames::delete(kind, &key, version);
                (next, Notice::Frame(frame))
            }
            Change::Credential {
                credential,
                is_revoked,
            } => {
                let mut next = self.edit(sequence);
                let mut credentials: Vec<Credential> = self
                    .credentials
                    .iter()
                    .filter(|existing| existing.id != credential.id)
                    .cloned()
                    .collect();
                if !is_revoked {
                    credentials.push(credential);
                }
                next.credentials = credentials.into();
                (next, Notice::CredentialsChanged)
            }
        }
    }

    fn upserted(&self, sequence: u64, kind: ItemKind, raw: RawItem) -> (EnvironmentData, Notice) {
        let mut next = self.edit(sequence);
        let key: Arc<str> = Arc::from(raw.key.as_str());
        let json = match kind {
            ItemKind::Flag => match FlagItem::parse_flag(&raw.key, raw.version, raw.json) {
                Ok(item) => {
                    let item = Arc::new(item);
                    next.deleted_flags.remove(&key);
                    next.flags.insert(key.clone(), item.clone());
                    item.json().clone()
                }
                Err(error) => {
                    log_invalid(&self.environment_id, &error);
                    return (next, Notice::None);
                }
            },
            ItemKind::Segment => {
                match SegmentItem::parse_segment(&raw.key, raw.version, raw.json) {
                    Ok(item) => {
                        let item = Arc::new(item);
                        next.deleted_segments.remove(&key);
                        next.segments.insert(key.clone(), item.clone());
                        item.json().clone()
                    }
                    Err(error) => {
                        log_invalid(&self.environment_id, &error);
                        return (next, Notice::None);
                    }
                }
            }
        };
        next.payload = Arc::new(build_payload(&next.flags, &next.segments));
        (next, Notice::Frame(frames::patch(kind, &key, &json)))
    }

    /// A copy at a new sequence number, sharing every item.
    fn edit(&self, sequence: u64) -> EnvironmentData {
        EnvironmentData {
            environment_id: self.environment_id.clone(),
            project_key: self.project_key.clone(),
            environment_key: self.environment_key.clone(),
            sequence,
            flags: self.flags.clone(),
            segments: self.segments.clone(),
            deleted_flags: self.deleted_flags.clone(),
            deleted_segments: self.deleted_segments.clone(),
            credentials: self.credentials.clone(),
            payload: self.payload.clone(),
        }
    }
}

fn build_payload(
    flags: &FxHashMap<Arc<str>, Arc<FlagItem>>,
    segments: &FxHashMap<Arc<str>, Arc<SegmentItem>>,
) -> Payload {
    Payload::build(
        flags
            .iter()
            .map(|(key, item)| (key.as_ref(), item.json().as_ref())),
        segments
            .iter()
            .map(|(key, item)| (key.as_ref(), item.json().as_ref())),
    )
}

fn log_invalid(environment_id: &EnvironmentId, error: &InvalidItemJson) {
    tracing::error!(
        environment_id = %environment_id,
        error = %error,
        source = %error.source,
        "dropping an item whose JSON cannot be served"
    );
}

#[cfg(test)]
impl super::Store {
    /// A loaded store holding one environment with `flag` and the server-side SDK key
    /// `server_key` (sequence 1 for the data, 2 for the key): tests.
    pub(crate) fn test_with_flag(
        buffer_events: usize,
        environment: &super::EnvironmentId,
        flag: RawItem,
        server_key: &str,
    ) -> super::Store {
        let store = super::Store::new(buffer_events);
        let contents = EnvironmentContents {
            flags: vec![flag],
            ..EnvironmentContents::default()
        };
        store
            .apply(environment, 1, Change::Replace(contents))
            .unwrap();
        store
            .apply(environment, 2, Change::test_server_key(server_key, false))
            .unwrap();
        store.mark_loaded();
        store
    }
}

#[cfg(test)]
impl Change {
    /// A change adding (or revoking) the server-side SDK key `presented`, id `k`: tests.
    pub(crate) fn test_server_key(presented: &str, is_revoked: bool) -> Change {
        Change::Credential {
            credential: super::Credential {
                id: "k".into(),
                kind: super::CredentialKind::ServerSdkKey,
                sha256: super::hash_credential(presented),
                expires_at_unix_ms: None,
            },
            is_revoked,
        }
    }
}
