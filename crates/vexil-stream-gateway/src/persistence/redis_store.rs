//! Redis as the persistent copy, in LaunchDarkly's Redis store layout (keys in `keys.rs`),
//! so a LaunchDarkly SDK in daemon mode reads flags straight from it. Each write is one
//! MULTI/EXEC.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::copy::{EnvironmentRecord, PersistentCopy, StoredItem};
use super::keys::Keys;
use super::meta::{GatewayMeta, META_FORMAT};
use super::PersistenceError;
use crate::config::RedisConfig;
use crate::store::{EnvironmentId, ItemKind};

/// The metadata and the flag and segment hashes of one environment, as Redis returns them.
type RawEnvironment = (
    Option<Vec<u8>>,
    HashMap<String, Vec<u8>>,
    HashMap<String, Vec<u8>>,
);

/// A connection to Redis (reconnecting by itself) and the key layout. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    keys: Keys,
}

impl RedisStore {
    /// Prepares a connection without opening it, so the gateway starts while Redis is
    /// down; commands fail (and are retried by their callers) until it is back.
    pub fn new(config: &RedisConfig) -> Result<RedisStore, PersistenceError> {
        let client = redis::Client::open(config.url.as_str())?;
        let connection = client.get_connection_manager_lazy(
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(10)))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(2)),
        )?;
        Ok(RedisStore {
            connection,
            keys: Keys::new(&config.prefix),
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    async fn execute(&self, pipe: redis::Pipeline) -> Result<(), PersistenceError> {
        pipe.query_async::<()>(&mut self.connection()).await?;
        Ok(())
    }

    async fn read_environments(&self) -> Result<Option<Vec<EnvironmentRecord>>, PersistenceError> {
        let keys = &self.keys;
        let mut connection = self.connection();
        let exists: bool = redis::cmd("EXISTS")
            .arg(keys.environments())
            .query_async(&mut connection)
            .await?;
        if !exists {
            return Ok(None);
        }
        let ids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(keys.environments())
            .query_async(&mut connection)
            .await?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            let environment_id = EnvironmentId::new(&id);
            let (meta, flags, segments): RawEnvironment = redis::pipe()
                .cmd("GET")
                .arg(keys.gateway_meta(&environment_id))
                .cmd("HGETALL")
                .arg(keys.items(&environment_id, ItemKind::Flag))
                .cmd("HGETALL")
                .arg(keys.items(&environment_id, ItemKind::Segment))
                .query_async(&mut connection)
                .await?;
            let Some(meta) = meta else {
                tracing::warn!(environment_id = %environment_id, "environment listed in Redis without metadata, skipped");
                continue;
            };
            let meta: GatewayMeta =
                serde_json::from_slice(&meta).map_err(|source| PersistenceError::Meta {
                    environment_id: id.clone(),
                    source,
                })?;
            if meta.format != META_FORMAT {
                tracing::warn!(environment_id = %environment_id, format = meta.format, "unknown gateway metadata format, skipped");
                continue;
            }
            let items = [(ItemKind::Flag, flags), (ItemKind::Segment, segments)]
                .into_iter()
                .flat_map(|(kind, items)| {
                    items.into_iter().map(move |(key, json)| StoredItem {
                        kind,
                        key,
                        json: Bytes::from(json),
                    })
                })
                .collect();
            records.push(EnvironmentRecord {
                environment_id,
                meta,
                items,
            });
        }
        Ok(Some(records))
    }
}

impl PersistentCopy for RedisStore {
    fn name(&self) -> &'static str {
        "redis"
    }

    /// Replaces the environment's hashes, as LaunchDarkly's own `Init` does, in one
    /// transaction: readers see the old data set or the new one.
    fn replace<'a>(
        &'a self,
        record: &'a EnvironmentRecord,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        let keys = &self.keys;
        let environment_id = &record.environment_id;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for kind in [ItemKind::Flag, ItemKind::Segment] {
            let key = keys.items(environment_id, kind);
            pipe.cmd("DEL").arg(&key).ignore();
            let mut fields = record
                .items
                .iter()
                .filter(|item| item.kind == kind)
                .peekable();
            if fields.peek().is_some() {
                let command = pipe.cmd("HSET").arg(&key);
                for item in fields {
                    command.arg(&item.key).arg(item.json.as_ref());
                }
                command.ignore();
            }
        }
        pipe.cmd("SET")
            .arg(keys.inited(environment_id))
            .arg("")
            .ignore();
        write_meta(&mut pipe, keys, environment_id, &record.meta);
        Box::pin(self.execute(pipe))
    }

    fn update<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
        items: &'a [StoredItem],
        meta: &'a GatewayMeta,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        let keys = &self.keys;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for item in items {
            pipe.cmd("HSET")
                .arg(keys.items(environment_id, item.kind))
                .arg(&item.key)
                .arg(item.json.as_ref())
                .ignore();
        }
        write_meta(&mut pipe, keys, environment_id, meta);
        Box::pin(self.execute(pipe))
    }

    fn remove<'a>(
        &'a self,
        environment_id: &'a EnvironmentId,
    ) -> BoxFuture<'a, Result<(), PersistenceError>> {
        let keys = &self.keys;
        let mut pipe = redis::pipe();
        pipe.atomic();
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
        Box::pin(self.execute(pipe))
    }

    fn read_all(&self) -> BoxFuture<'_, Result<Option<Vec<EnvironmentRecord>>, PersistenceError>> {
        Box::pin(self.read_environments())
    }
}

fn write_meta(
    pipe: &mut redis::Pipeline,
    keys: &Keys,
    environment_id: &EnvironmentId,
    meta: &GatewayMeta,
) {
    let meta = serde_json::to_vec(meta).expect("gateway metadata always serializes");
    pipe.cmd("SET")
        .arg(keys.gateway_meta(environment_id))
        .arg(meta)
        .ignore();
    pipe.cmd("SADD")
        .arg(keys.environments())
        .arg(environment_id.as_str())
        .ignore();
}
