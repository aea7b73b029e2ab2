//! The persistent copy kept in the process's memory, for `vexil up`'s embedded mode
//! (`persistence.kind = "memory"`).
//!
//! Memory is enough there because the copy only matters when config-api is unreachable
//! at the gateway's startup. Inside `vexil up` config-api runs in the same process, keeps
//! its data durably in its own database (under the data directory in embedded mode), and
//! is ready before the gateway starts, so it always answers first; after a restart it answers again with everything
//! the gateway had. A copy that outlived the process would add nothing but a second
//! durable store to keep consistent. Deployed on its own, a gateway with this copy stays
//! not ready (503) until config-api answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::future::{self, BoxFuture};

use super::copy::{EnvironmentRecord, PersistentCopy, StoredItem};
use super::meta::GatewayMeta;
use super::PersistenceError;
use crate::store::{EnvironmentId, ItemKind};

/// Every environment's metadata and items, for the life of the process. Item JSON is
/// `Bytes` shared with the gateway's store, so the copy costs little more than its maps.
#[derive(Default)]
pub struct MemoryCopy {
    environments: Mutex<BTreeMap<EnvironmentId, StoredEnvironment>>,
}

struct StoredEnvironment {
    meta: GatewayMeta,
    items: HashMap<(ItemKind, String), Bytes>,
}

impl MemoryCopy {
    pub fn new() -> MemoryCopy {
        MemoryCopy::default()
    }

    fn with_environments<T>(
        &self,
        action: impl FnOnce(&mut BTreeMap<EnvironmentId, StoredEnvironment>) -> T,
    ) -> T {
        let mut environments = self.environments.lock().expect("memory copy lock poisoned");
        action(&mut environments)
    }
}

impl PersistentCopy for MemoryCopy {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn replace<'a>(
        &'a self,
        record: &'a EnvironmentRecord,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        let stored = StoredEnvironment {
            meta: record.meta.clone(),
            items: record
                .items
                .iter()
                .map(|item| ((item.kind, item.key.clone()), item.json.clone()))
                .collect(),
        };
        self.with_environments(|environments| {
            environments.insert(record.environment_id.clone(), stored);
        });
        Box::pin(future::ready(Ok(())))
    }

    fn update<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
        items: &'a [StoredItem],
        meta: &'a GatewayMeta,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        self.with_environments(|environments| {
            let stored = environments
                .entry(environment_id.clone())
                .or_insert_with(|| StoredEnvironment {
                    meta: meta.clone(),
                    items: HashMap::new(),
                });
            for item in items {
                stored
                    .items
                    .insert((item.kind, item.key.clone()), item.json.clone());
            }
            stored.meta = meta.clone();
        });
        Box::pin(future::ready(Ok(())))
    }

    fn remove<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        self.with_environments(|environments| environments.remove(environment_id));
        Box::pin(future::ready(Ok(())))
    }

    fn read_all(&self) -> BoxFuture<'_, Result<Option<Vec<EnvironmentRecord>>, PersistenceError>> {
        let records = self.with_environments(|environments| {
            if environments.is_empty() {
                return None;
            }
            let records = environments
                .iter()
                .map(|(environment_id, stored)| EnvironmentRecord {
                    environment_id: environment_id.clone(),
                    meta: stored.meta.clone(),
                    items: stored
                        .items
                        .iter()
                        .map(|((kind, key), json)| StoredItem {
                            kind: *kind,
                            key: key.clone(),
                            json: json.clone(),
                        })
                        .collect(),
                })
                .collect();
            Some(records)
        });
        Box::pin(future::ready(Ok(records)))
    }
}
