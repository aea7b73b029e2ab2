//! Reads every environment from the persistent copy, for a start without config-api.

use bytes::Bytes;
use serde::Deserialize;

use super::copy::{EnvironmentRecord, PersistentCopy};
use super::PersistenceError;
use crate::store::{EnvironmentContents, EnvironmentId, ItemKind, RawItem};

/// One stored environment: its id, the sequence it is complete up to, and its contents.
pub struct StoredEnvironment {
    pub environment_id: EnvironmentId,
    pub sequence: u64,
    pub contents: EnvironmentContents,
}

/// Every environment in the copy; `None` when the gateway never stored anything there (a
/// fresh install), which must not count as "loaded".
pub async fn load_all(
    copy: &dyn PersistentCopy,
) -> Result<Option<Vec<StoredEnvironment>>, PersistenceError> {
    let Some(records) = copy.read_all().await? else {
        return Ok(None);
    };
    Ok(Some(records.into_iter().map(stored_environment).collect()))
}

fn stored_environment(record: EnvironmentRecord) -> StoredEnvironment {
    let EnvironmentRecord {
        environment_id,
        meta,
        items,
    } = record;
    let mut contents = EnvironmentContents {
        project_key: meta.project_key,
        environment_key: meta.environment_key,
        credentials: meta.credentials,
        ..EnvironmentContents::default()
    };
    for item in items {
        classify(
            &environment_id,
            item.kind,
            item.key,
            item.json,
            &mut contents,
        );
    }
    StoredEnvironment {
        environment_id,
        sequence: meta.sequence,
        contents,
    }
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
    json: Bytes,
    contents: &mut EnvironmentContents,
) {
    let header: Header = match serde_json::from_slice(&json) {
        Ok(header) => header,
        Err(error) => {
            tracing::warn!(environment_id = %environment_id, item_key = %key, %error,
                "unreadable item in the persistent copy, skipped");
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
        json,
    };
    match kind {
        ItemKind::Flag => contents.flags.push(item),
        ItemKind::Segment => contents.segments.push(item),
    }
}
