//! `PersistentCopy`: what the writer and the loader need from wherever the gateway keeps
//! its copy of every environment (Redis in a deployment, memory inside `vexil up`).

use bytes::Bytes;
use futures_util::future::BoxFuture;

use super::meta::GatewayMeta;
use super::PersistenceError;
use crate::store::{EnvironmentId, ItemKind};

/// One flag or segment as LaunchDarkly's persistent stores hold it: the JSON SDKs receive
/// for a live item, `{"key","version","deleted":true}` for a deleted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    pub kind: ItemKind,
    pub key: String,
    pub json: Bytes,
}

/// Everything stored about one environment: its gateway metadata and every item, live
/// and deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentRecord {
    pub environment_id: EnvironmentId,
    pub meta: GatewayMeta,
    pub items: Vec<StoredItem>,
}

/// The gateway's copy of every environment, read at startup when config-api does not
/// answer within `init_timeout` (so SDKs get stale data rather than nothing), and written
/// in the background after every change.
///
/// Every implementation runs the same contract tests (`tests/it/persistent_copy/`). Each
/// write is atomic per environment: a later `read_all` sees all of it or none of it.
/// Methods return boxed futures so the gateway can hold any implementation as
/// `Arc<dyn PersistentCopy>`, chosen by `persistence.kind` at startup or passed in by an
/// embedding process (`Gateway::start_with_copy`).
pub trait PersistentCopy: Send + Sync + 'static {
    /// A short name for logs (`redis`, `memory`).
    fn name(&self) -> &'static str;

    /// Replaces everything stored for `record.environment_id` with `record` (items absent
    /// from it are dropped) and marks the environment's data set complete.
    fn replace<'a>(
        &'a self,
        record: &'a EnvironmentRecord,
    ) -> BoxFuture<'a, Result<(), PersistenceError>>;

    /// Overwrites `items` (others stay as they are) and the metadata of an environment.
    fn update<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
        items: &'a [StoredItem],
        meta: &'a GatewayMeta,
    ) -> BoxFuture<'a, Result<(), PersistenceError>>;

    /// Forgets an environment entirely.
    fn remove<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
    ) -> BoxFuture<'a, Result<(), PersistenceError>>;

    /// Every stored environment, in no particular order; `None` when no environment is
    /// stored (a fresh install, or every environment removed), which must not count as
    /// "loaded" at startup.
    fn read_all(&self) -> BoxFuture<'_, Result<Option<Vec<EnvironmentRecord>>, PersistenceError>>;
}

impl StoredItem {
    /// The stored form of a live item or a tombstone of `kind`.
    pub fn new(kind: ItemKind, key: &str, json: impl Into<Bytes>) -> StoredItem {
        StoredItem {
            kind,
            key: key.to_owned(),
            json: json.into(),
        }
    }
}
