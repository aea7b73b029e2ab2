//! `EnvironmentData`: one environment's complete, immutable state at one sequence number.
//! Every change builds a new one; readers hold an `Arc` to the one they started with.

use std::sync::Arc;
use std::time::SystemTime;

use rustc_hash::FxHashMap;
use vexil_eval::{PreparedFlag, PreparedSegment};

use super::credentials::{Credential, CredentialHash};
use super::ids::{EnvironmentId, ItemKind};
use super::item::{FlagItem, SegmentItem};
use super::payload::Payload;

/// An environment's flags, segments, tombstones and credentials, prepared for serving.
///
/// Implements [`vexil_eval::Store`], so it can be evaluated against directly: deleted
/// items and items whose JSON `vexil-eval` cannot decode are absent.
#[derive(Debug)]
pub struct EnvironmentData {
    pub(super) environment_id: EnvironmentId,
    pub(super) project_key: Arc<str>,
    pub(super) environment_key: Arc<str>,
    pub(super) sequence: u64,
    pub(super) flags: FxHashMap<Arc<str>, Arc<FlagItem>>,
    pub(super) segments: FxHashMap<Arc<str>, Arc<SegmentItem>>,
    /// Tombstone versions of deleted items, kept so versions keep growing.
    pub(super) deleted_flags: FxHashMap<Arc<str>, u64>,
    pub(super) deleted_segments: FxHashMap<Arc<str>, u64>,
    pub(super) credentials: Arc<[Credential]>,
    /// Shared with the previous state when only credentials changed.
    pub(super) payload: Arc<Payload>,
}

impl EnvironmentData {
    pub fn environment_id(&self) -> &EnvironmentId {
        &self.environment_id
    }

    pub fn project_key(&self) -> &str {
        &self.project_key
    }

    pub fn environment_key(&self) -> &str {
        &self.environment_key
    }

    /// config-api's sequence number this state is consistent with.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The pre-serialised server-side payload (`/sdk/latest-all`, the `put` frame).
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Live flags, in no particular order.
    pub fn flags(&self) -> impl Iterator<Item = (&str, &FlagItem)> {
        self.flags
            .iter()
            .map(|(key, item)| (key.as_ref(), item.as_ref()))
    }

    /// Live segments, in no particular order.
    pub fn segments(&self) -> impl Iterator<Item = (&str, &SegmentItem)> {
        self.segments
            .iter()
            .map(|(key, item)| (key.as_ref(), item.as_ref()))
    }

    /// A live flag.
    pub fn flag_item(&self, key: &str) -> Option<&FlagItem> {
        self.flags.get(key).map(Arc::as_ref)
    }

    /// A live segment.
    pub fn segment_item(&self, key: &str) -> Option<&SegmentItem> {
        self.segments.get(key).map(Arc::as_ref)
    }

    /// Deleted items with their tombstone versions.
    pub fn tombstones(&self) -> impl Iterator<Item = (ItemKind, &str, u64)> {
        let flags = self
            .deleted_flags
            .iter()
            .map(|(key, version)| (ItemKind::Flag, key.as_ref(), *version));
        let segments = self
            .deleted_segments
            .iter()
            .map(|(key, version)| (ItemKind::Segment, key.as_ref(), *version));
        flags.chain(segments)
    }

    /// The environment's credentials (expired ones may linger until the next snapshot).
    pub fn credentials(&self) -> &[Credential] {
        &self.credentials
    }

    /// The credential with this hash, if it works at `now`.
    pub fn active_credential(&self, hash: &CredentialHash, now: SystemTime) -> Option<&Credential> {
        self.credentials
            .iter()
            .find(|credential| credential.sha256 == *hash && credential.is_active_at(now))
    }

    /// The current JSON of an item, live or tombstone, as LaunchDarkly's persistent stores
    /// hold it; `None` when the environment never had it.
    pub fn stored_json(&self, kind: ItemKind, key: &str) -> Option<Vec<u8>> {
        let (live, deleted) = match kind {
            ItemKind::Flag => (
                self.flag_item(key).map(|item| item.json()),
                self.deleted_flags.get(key),
            ),
            ItemKind::Segment => (
                self.segment_item(key).map(|item| item.json()),
                self.deleted_segments.get(key),
            ),
        };
        match (live, deleted) {
            (Some(json), _) => Some(json.to_vec()),
            (None, Some(version)) => Some(tombstone_json(key, *version)),
            (None, None) => None,
        }
    }
}

/// LaunchDarkly's stored form of a deleted item (spec 1.11).
pub fn tombstone_json(key: &str, version: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"key": key, "version": version, "deleted": true}))
        .expect("a JSON value always serializes")
}

impl vexil_eval::Store for EnvironmentData {
    fn flag(&self, key: &str) -> Option<&PreparedFlag> {
        self.flags.get(key)?.prepared()
    }

    fn segment(&self, key: &str) -> Option<&PreparedSegment> {
        self.segments.get(key)?.prepared()
    }
}

impl crate::evaluation::EvaluationSource for EnvironmentData {
    fn live_flags(&self) -> impl Iterator<Item = &PreparedFlag> {
        self.flags.values().filter_map(|item| item.prepared())
    }
}
