//! Writes changes to Redis in the background. The feed only *marks* what changed (never
//! waiting on Redis); the writer coalesces marks per environment, reads the current data
//! from the store and writes it in one MULTI/EXEC per environment. When Redis is down,
//! marks accumulate (bounded: many item marks collapse into one full rewrite) and are
//! written once it is back.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::keys::Keys;
use super::meta::GatewayMeta;
use super::{PersistenceError, RedisStore};
use crate::error::error_chain;
use crate::store::{EnvironmentData, EnvironmentId, ItemKind, Store};

/// Past this many changed items an environment is rewritten whole.
const MAX_ITEM_MARKS: usize = 256;
/// How long the final flush at shutdown may take.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(3);

/// What changed in an environment, as far as Redis is concerned.
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
        redis: RedisStore,
        store: Store,
        shutdown: CancellationToken,
    ) -> (Persister, JoinHandle<()>) {
        let persister = Persister(Arc::new(Shared {
            pending: Mutex::new(HashMap::new()),
            wake: Notify::new(),
        }));
        let task = tokio::spawn(persister.clone().run(redis, store, shutdown));
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

    async fn run(self, redis: RedisStore, store: Store, shutdown: CancellationToken) {
        let mut delay = Duration::from_millis(200);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.0.wake.notified() => {}
            }
            while let Err(error) = self.flush(&redis, &store).await {
                tracing::warn!(error = %error_chain(&error), retry_in_ms = delay.as_millis() as u64,
                    "cannot write to Redis, will retry");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            delay = Duration::from_millis(200);
        }
        match tokio::time::timeout(SHUTDOWN_FLUSH, self.flush(&redis, &store)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %error_chain(&error), "changes not written to Redis at shutdown")
            }
            Err(_) => tracing::warn!("timed out writing changes to Redis at shutdown"),
        }
    }

    /// Writes everything pending; on failure, what was not written is pending again.
    async fn flush(&self, redis: &RedisStore, store: &Store) -> Result<(), PersistenceError> {
        let mut batch = self.take().into_iter();
        while let Some((environment_id, dirty)) = batch.next() {
            if let Err(error) = write(redis, store, &environment_id, &dirty).await {
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
    redis: &RedisStore,
    store: &Store,
    environment_id: &EnvironmentId,
    dirty: &Dirty,
) -> Result<(), PersistenceError> {
    let keys = redis.keys();
    let mut pipe = redis::pipe();
    pipe.atomic();
    let data = store.environment(environment_id);
    match data {
        None if dirty.is_deleted => delete_environment(&mut pipe, keys, environment_id),
        // Deleted and re-created cannot happen (ids are UUIDs); gone without a deletion
        // mark means a deletion mark is already queued behind this one.
        None => return Ok(()),
        Some(data) if dirty.is_full || dirty.is_deleted => write_everything(&mut pipe, keys, &data),
        Some(data) => write_items(&mut pipe, keys, &data, dirty),
    }
    pipe.query_async::<()>(&mut redis.connection()).await?;
    tracing::debug!(environment_id = %environment_id, sequence = dirty.sequence, "written to Redis");
    Ok(())
}

fn delete_environment(pipe: &mut redis::Pipeline, keys: &Keys, environment_id: &EnvironmentId) {
    pipe.cmd("DEL")
        .arg(keys.items(environment_id, ItemKind::Flag))
        .arg(keys.items(environment_id, ItemKind::Segment))
        .arg(keys.inited(environment_id))
        .arg(keys.gateway_meta(environment_id))
        .ignore();
    pipe.cmd("SREM")
        .arg(keys.environments())
        .arg(environment_id.as_str())
        .ignore();
}

/// Replaces the environment's hashes, as LaunchDarkly's own `Init` does, in one
/// transaction: readers see the old data set or the new one.
fn write_everything(pipe: &mut redis::Pipeline, keys: &Keys, data: &EnvironmentData) {
    let environment_id = data.environment_id();
    for kind in [ItemKind::Flag, ItemKind::Segment] {
        let key = keys.items(environment_id, kind);
        pipe.cmd("DEL").arg(&key).ignore();
        let mut fields: Vec<(&str, Vec<u8>)> = match kind {
            ItemKind::Flag => data
                .flags()
                .map(|(key, item)| (key, item.json().to_vec()))
                .collect(),
            ItemKind::Segment => data
                .segments()
                .map(|(key, item)| (key, item.json().to_vec()))
                .collect(),
        };
        fields.extend(
            data.tombstones()
                .filter(|(tombstone_kind, _, _)| *tombstone_kind == kind)
                .map(|(_, key, version)| (key, crate::store::tombstone_json(key, version))),
        );
        if !fields.is_empty() {
            let command = pipe.cmd("HSET").arg(&key);
            for (field, value) in fields {
                command.arg(field).arg(value);
            }
            command.ignore();
        }
    }
    pipe.cmd("SET")
        .arg(keys.inited(environment_id))
        .arg("")
        .ignore();
    write_meta(pipe, keys, data, data.sequence());
}

fn write_items(pipe: &mut redis::Pipeline, keys: &Keys, data: &EnvironmentData, dirty: &Dirty) {
    let environment_id = data.environment_id();
    for (kind, key) in &dirty.items {
        if let Some(json) = data.stored_json(*kind, key) {
            pipe.cmd("HSET")
                .arg(keys.items(environment_id, *kind))
                .arg(key.as_ref())
                .arg(json)
                .ignore();
        }
    }
    write_meta(pipe, keys, data, dirty.sequence);
}

fn write_meta(pipe: &mut redis::Pipeline, keys: &Keys, data: &EnvironmentData, sequence: u64) {
    let environment_id = data.environment_id();
    let meta = serde_json::to_vec(&GatewayMeta::of(data, sequence))
        .expect("gateway metadata always serializes");
    pipe.cmd("SET")
        .arg(keys.gateway_meta(environment_id))
        .arg(meta)
        .ignore();
    pipe.cmd("SADD")
        .arg(keys.environments())
        .arg(environment_id.as_str())
        .ignore();
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
