//! Writes changes to the persistent copy in the background. The feed only *marks* what
//! changed (never waiting on the copy); the writer coalesces marks per environment, reads
//! the current data from the store and writes it in one atomic write per environment
//! (`replace`, `update` or `remove`). When the copy (Redis) is unavailable,
//! marks accumulate (bounded: many item marks collapse into one full rewrite) and are
//! written once it is back.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use bytes::Bytes;

use super::copy::{EnvironmentRecord, PersistentCopy, StoredItem};
use super::meta::GatewayMeta;
use super::PersistenceError;
use crate::error::error_chain;
use crate::store::{tombstone_json, EnvironmentData, EnvironmentId, ItemKind, Store};

/// Past this many changed items an environment is rewritten whole.
const MAX_ITEM_MARKS: usize = 256;
/// How long the final flush at shutdown may take.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(3);

/// What changed in an environment, as far as the persistent copy is concerned.
#[derive(Debug, Clone)]
pub enum Mark {
    /// Everything (snapshot): rewrite both hashes.
    Full,
    /// One flag or segment (upserted or deleted).
    Item(ItemKind, String),
    /// Only the gateway metadata (credentials).
    Meta,
    /// The environment is gone.
    Deleted,
}

/// Accepts marks from the feed. Cheap to clone.
#[derive(Clone)]
pub struct Persister(Arc<Shared>);

struct Shared {
    pending: Mutex<HashMap<EnvironmentId, Dirty>>,
    wake: Notify,
}

#[derive(Debug, Default)]
struct Dirty {
    is_deleted: bool,
    is_full: bool,
    items: HashSet<(ItemKind, Arc<str>)>,
    /// The highest sequence number among the marks: the stored data is complete up to it
    /// once these marks are written.
    sequence: u64,
}

impl Dirty {
    fn merge(&mut self, later: Dirty) {
        self.sequence = self.sequence.max(later.sequence);
        if later.is_deleted {
            *self = Dirty {
                is_deleted: true,
                sequence: self.sequence,
                ..Dirty::default()
            };
            return;
        }
        self.is_full |= later.is_full;
        self.items.extend(later.items);
        self.collapse();
    }

    fn collapse(&mut self) {
        if self.is_full || self.items.len() > MAX_ITEM_MARKS {
            self.is_full = true;
            self.items.clear();
        }
    }
}

impl Persister {
    /// Starts the writer task; it stops (after one last flush) when `shutdown` fires.
    pub fn spawn(
        copy: Arc<dyn PersistentCopy>,
        store: Store,
        shutdown: CancellationToken,
    ) -> (Persister, JoinHandle<()>) {
        let persister = Persister(Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        }));
        let task = tokio::spawn(persister.clone().run(copy, store, shutdown));
        (persister, task)
    }

    /// Records that `environment_id` changed at `sequence`.
    pub fn mark(&self, environment_id: &EnvironmentId, sequence: u64, mark: Mark) {
        let mut later = Dirty {
            sequence,
            ..Dirty::default()
        };
        match mark {
            Mark::Full => later.is_full = true,
            Mark::Item(kind, key) => {
                later.items.insert((kind, Arc::from(key.as_str())));
            }
            Mark::Meta => {}
            Mark::Deleted => later.is_deleted = true,
        }
        self.put_back(environment_id.clone(), later);
        self.0.wake.notify_one();
    }

    /// Whether nothing is waiting to be written (tests poll it).
    pub fn is_idle(&self) -> bool {
        self.0
            .pending
            .lock()
            .expect("persister lock poisoned")
            .is_empty()
    }

    fn put_back(&self, environment_id: EnvironmentId, dirty: Dirty) {
        let mut pending = self.0.pending.lock().expect("persister lock poisoned");
        match pending.get_mut(&environment_id) {
            Some(existing) => existing.merge(dirty),
            None => {
                pending.insert(environment_id, dirty);
            }
        }
    }

    fn take(&self) -> HashMap<EnvironmentId, Dirty> {
        std::mem::take(&mut *self.0.pending.lock().expect("persister lock poisoned"))
    }

    async fn run(self, copy: Arc<dyn PersistentCopy>, store: Store, shutdown: CancellationToken) {
        let copy = copy.as_ref();
        let mut delay = Duration::from_millis(200);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.0.wake.notified() => {}
            }
            while let Err(error) = self.flush(copy, &store).await {
                tracing::warn!(error = %error_chain(&error), retry_in_ms = delay.as_millis() as u64,
                    persistent_copy = copy.name(), "cannot write to the persistent copy, will retry");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            delay = Duration::from_millis(200);
        }
        match tokio::time::timeout(SHUTDOWN_FLUSH, self.flush(copy, &store)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %error_chain(&error), persistent_copy = copy.name(), "changes not written to the persistent copy at shutdown")
            }
            Err(_) => tracing::warn!(
                persistent_copy = copy.name(),
                "timed out writing changes to the persistent copy at shutdown"
            ),
        }
    }

    /// Writes everything pending; on failure, what was not written is pending again.
    async fn flush(
        &self,
        copy: &dyn PersistentCopy,
        store: &Store,
    ) -> Result<(), PersistenceError> {
        let mut batch = self.take().into_iter();
        while let Some((environment_id, dirty)) = batch.next() {
            if let Err(error) = write(copy, store, &environment_id, &dirty).await {
                self.put_back(environment_id, dirty);
                for (environment_id, dirty) in batch {
                    self.put_back(environment_id, dirty);
                }
                return Err(error);
            }
        }
        Ok(())
    }
}

async fn write(
    copy: &dyn PersistentCopy,
    store: &Store,
    environment_id: &EnvironmentId,
    dirty: &Dirty,
) -> Result<(), PersistenceError> {
    match store.environment(environment_id) {
        None if dirty.is_deleted => copy.remove(environment_id).await?,
        // Deleted and re-created cannot happen (ids are UUIDs); gone without a deletion
        // mark means a deletion mark is already queued behind this one.
        None => return Ok(()),
        Some(data) if dirty.is_full || dirty.is_deleted => copy.replace(&record_of(&data)).await?,
        Some(data) => {
            let items: Vec<StoredItem> = dirty
                .items
                .iter()
                .filter_map(|(kind, key)| stored_item(&data, *kind, key))
                .collect();
            let meta = GatewayMeta::of(&data, dirty.sequence);
            copy.update(environment_id, &items, &meta).await?
        }
    }
    tracing::debug!(environment_id = %environment_id, sequence = dirty.sequence,
        persistent_copy = copy.name(), "written to the persistent copy");
    Ok(())
}

/// Everything the environment holds, live items and tombstones, complete up to its own
/// sequence.
fn record_of(data: &EnvironmentData) -> EnvironmentRecord {
    let flags = data
        .flags()
        .map(|(key, item)| StoredItem::new(ItemKind::Flag, key, item.json().clone()));
    let segments = data
        .segments()
        .map(|(key, item)| StoredItem::new(ItemKind::Segment, key, item.json().clone()));
    let tombstones = data
        .tombstones()
        .map(|(kind, key, version)| StoredItem::new(kind, key, tombstone_json(key, version)));
    EnvironmentRecord {
        environment_id: data.environment_id().clone(),
        meta: GatewayMeta::of(data, data.sequence()),
        items: flags.chain(segments).chain(tombstones).collect(),
    }
}

/// The item's current stored form (sharing a live item's JSON); `None` when the
/// environment never had it.
fn stored_item(data: &EnvironmentData, kind: ItemKind, key: &str) -> Option<StoredItem> {
    let live = match kind {
        ItemKind::Flag => data.flag_item(key).map(|item| item.json().clone()),
        ItemKind::Segment => data.segment_item(key).map(|item| item.json().clone()),
    };
    let json = match live {
        Some(json) => json,
        None => Bytes::from(data.stored_json(kind, key)?),
    };
    Some(StoredItem::new(kind, key, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str) -> (ItemKind, Arc<str>) {
        (ItemKind::Flag, Arc::from(key))
    }

    #[test]
    fn marks_coalesce_and_stay_bounded() {
        let mut dirty = Dirty {
            sequence: 1,
            items: [item("a")].into(),
            ..Dirty::default()
        };
        dirty.merge(Dirty {
            sequence: 3,
            items: [item("b")].into(),
            ..Dirty::default()
        });
        assert_eq!(
            (dirty.sequence, dirty.items.len(), dirty.is_full),
            (3, 2, false)
        );
        for index in 0..MAX_ITEM_MARKS {
            dirty.merge(Dirty {
                sequence: 4,
                items: [item(&format!("k{index}"))].into(),
                ..Dirty::default()
            });
        }
        assert!(dirty.is_full && dirty.items.is_empty());
        dirty.merge(Dirty {
            sequence: 2,
            is_deleted: true,
            ..Dirty::default()
        });
        assert!(dirty.is_deleted && !dirty.is_full);
        assert_eq!(dirty.sequence, 4);
    }
}
