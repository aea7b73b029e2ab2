//! Reads what a watcher starts from: a consistent snapshot of an environment, or the
//! changes it missed.

use uuid::Uuid;
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::watch_event::Event;

use crate::mutations::credentials::to_proto;
use crate::store::kinds::ChangeKind;
use crate::store::rows::Change;
use crate::store::{ConfigStore, StoreError};

/// How many changes one read of the outbox returns.
const CHANGES_PER_READ: i64 = 1_000;

/// The environment's whole configuration and the sequence number it is consistent with,
/// read in one snapshot (`ConfigStore::read_snapshot`); `None` when the environment does
/// not exist.
pub async fn snapshot(
    store: &dyn ConfigStore,
    environment_id: Uuid,
) -> Result<Option<proto::WatchEvent>, StoreError> {
    let mut session = store.read_snapshot().await?;
    let Some(environment) = session.find_environment_by_id(environment_id).await? else {
        return Ok(None);
    };
    let Some(project) = session.find_project_by_id(environment.project_id).await? else {
        return Ok(None);
    };
    let flags = session
        .sdk_flags(environment.id)
        .await?
        .iter()
        .map(proto::FlagUpsert::from_flag)
        .collect();
    let segments = session
        .list_segments(environment.id)
        .await?
        .iter()
        .map(|row| proto::SegmentUpsert::from_segment(&row.sdk_segment()))
        .collect();
    let now = crate::store::now();
    let credentials = session
        .list_credentials(environment.id)
        .await?
        .iter()
        .filter(|credential| credential.is_active(now))
        .map(to_proto)
        .collect();
    Ok(Some(proto::WatchEvent {
        environment_id: environment.id.to_string(),
        sequence: environment.sequence as u64,
        event: Some(Event::Snapshot(proto::EnvironmentSnapshot {
            project_key: project.key,
            environment_key: environment.key,
            flags,
            segments,
            credentials,
        })),
    }))
}

/// The changes after `after_sequence`, when config-api still holds all of them; `None`
/// when some were pruned (the watcher needs a snapshot).
pub async fn missed_changes(
    store: &dyn ConfigStore,
    environment_id: Uuid,
    after_sequence: i64,
) -> Result<Option<Vec<Change>>, StoreError> {
    let mut session = store.read().await?;
    let Some(current) = session.find_environment_by_id(environment_id).await? else {
        return Ok(None);
    };
    if after_sequence > current.sequence {
        return Ok(None); // the client is ahead: it saw another database; start over
    }
    if after_sequence == current.sequence {
        return Ok(Some(Vec::new()));
    }
    match session.oldest_change_held(environment_id).await? {
        Some(oldest) if oldest <= after_sequence + 1 => {}
        _ => return Ok(None),
    }
    let mut missed = Vec::new();
    let mut after = after_sequence;
    loop {
        let batch = session
            .changes_since(environment_id, after, CHANGES_PER_READ)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.sequence;
        missed.extend(batch);
    }
    Ok(Some(missed))
}

/// A stored change as a watch event; `None` for a row that cannot be decoded (logged).
pub fn to_event(change: &Change) -> Option<proto::WatchEvent> {
    let event = match ChangeKind::parse(&change.kind)? {
        ChangeKind::FlagUpsert => Event::FlagUpsert(proto::FlagUpsert {
            key: change.key.clone(),
            version: change.version as u64,
            json: change.payload.clone(),
        }),
        ChangeKind::FlagDeleted => Event::FlagDeleted(proto::ItemDeleted {
            key: change.key.clone(),
            version: change.version as u64,
        }),
        ChangeKind::SegmentUpsert => Event::SegmentUpsert(proto::SegmentUpsert {
            key: change.key.clone(),
            version: change.version as u64,
            json: change.payload.clone(),
        }),
        ChangeKind::SegmentDeleted => Event::SegmentDeleted(proto::ItemDeleted {
            key: change.key.clone(),
            version: change.version as u64,
        }),
        ChangeKind::CredentialChanged => {
            match <proto::CredentialChanged as prost::Message>::decode(change.payload.as_slice()) {
                Ok(credential) => Event::CredentialChanged(credential),
                Err(error) => {
                    tracing::error!(%error, sequence = change.sequence, "undecodable credential change");
                    return None;
                }
            }
        }
        ChangeKind::EnvironmentDeleted => Event::EnvironmentDeleted(proto::EnvironmentDeleted {}),
    };
    Some(proto::WatchEvent {
        environment_id: change.environment_id.to_string(),
        sequence: change.sequence as u64,
        event: Some(event),
    })
}
