//! Reads every environment the gateway stored in Redis, for a start without config-api.

use std::collections::HashMap;

use bytes::Bytes;
use serde::Deserialize;

use super::meta::{GatewayMeta, META_FORMAT};
use super::{PersistenceError, RedisStore};
use crate::store::{EnvironmentContents, EnvironmentId, ItemKind, RawItem};

/// The metadata and the flag and segment hashes of one environment, as Redis returns them.
type RawEnvironment = (
    Option<Vec<u8>>,
    HashMap<String, Vec<u8>>,
    HashMap<String, Vec<u8>>,
);

/// One stored environment: its id, the sequence it is complete up to, and its contents.
pub struct StoredEnvironment {
    pub environment_id: EnvironmentId,
    pub sequence: u64,
    pub contents: EnvironmentContents,
}

/// Every environment in Redis; `None` when the gateway never stored anything there (a
/// fresh install), which must not count as "loaded".
pub async fn load_all(
    redis: &RedisStore,
) -> Result<Option<Vec<StoredEnvironment>>, PersistenceError> {
    let keys = redis.keys();
    let mut connection = redis.connection();
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
    let mut environments = Vec::with_capacity(ids.len());
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
        let mut contents = EnvironmentContents {
            project_key: meta.project_key,
            environment_key: meta.environment_key,
            credentials: meta.credentials,
            ..EnvironmentContents::default()
        };
        for (kind, items) in [(ItemKind::Flag, flags), (ItemKind::Segment, segments)] {
            for (key, json) in items {
                classify(&environment_id, kind, key, json, &mut contents);
            }
        }
        environments.push(StoredEnvironment {
            environment_id,
            sequence: meta.sequence,
            contents,
        });
    }
    Ok(Some(environments))
}

/// The fields every stored item has, live or deleted.
#[derive(Deserialize)]
struct Header {
    version: u64,
    #[serde(default)]
    deleted: bool,
}

fn classify(
    environment_id: &EnvironmentId,
    kind: ItemKind,
    key: String,
    json: Vec<u8>,
    contents: &mut EnvironmentContents,
) {
    let header: Header = match serde_json::from_slice(&json) {
        Ok(header) => header,
        Err(error) => {
            tracing::warn!(environment_id = %environment_id, item_key = %key, %error,
                "unreadable item in Redis, skipped");
            return;
        }
    };
    if header.deleted {
        contents.deleted.push((kind, key, header.version));
        return;
    }
    let item = RawItem {
        key,
        version: header.version,
        json: Bytes::from(json),
    };
    match kind {
        ItemKind::Flag => contents.flags.push(item),
        ItemKind::Segment => contents.segments.push(item),
    }
}
