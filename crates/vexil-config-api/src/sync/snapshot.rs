//! Reads what a watcher starts from: a consistent snapshot of an environment, or the
//! changes it missed.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::watch_event::Event;

use crate::mutations::credentials::to_proto;
use crate::store::changes;
use crate::store::kinds::ChangeKind;
use crate::store::rows::Change;
use crate::store::StoreError;
use crate::store::{credentials, environments, flags, projects, segments};

/// The environment's whole configuration and the sequence number it is consistent with,
/// read in one repeatable-read transaction; `None` when the environment does not exist.
pub async fn snapshot(
    pool: &PgPool,
    environment_id: Uuid,
) -> Result<Option<proto::WatchEvent>, StoreError> {
    let mut transaction: Transaction<'_, Postgres> = pool.begin().await?;
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *transaction)
        .await?;
    let Some(environment) = environments::find_by_id(&mut transaction, environment_id).await?
    else {
        return Ok(None);
    };
    let Some(project) = projects::find_by_id(&mut transaction, environment.project_id).await?
    else {
        return Ok(None);
    };
    let flags = flags::sdk_flags(&mut transaction, environment.id)
        .await?
        .iter()
        .map(proto::FlagUpsert::from_flag)
        .collect();
    let segments = segments::list(&mut transaction, environment.id)
        .await?
        .iter()
        .map(|row| proto::SegmentUpsert::from_segment(&row.sdk_segment()))
        .collect();
    let now = crate::store::now();
    let credentials = credentials::list(&mut transaction, environment.id)
        .await?
        .iter()
        .filter(|credential| credential.is_active(now))
        .map(to_proto)
        .collect();
    transaction.commit().await?;
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
    pool: &PgPool,
    environment_id: Uuid,
    after_sequence: i64,
) -> Result<Option<Vec<Change>>, StoreError> {
    let mut connection = pool.acquire().await?;
    let Some(current) = environments::find_by_id(&mut connection, environment_id).await? else {
        return Ok(None);
    };
    if after_sequence > current.sequence {
        return Ok(None); // the client is ahead: it saw another database; start over
    }
    if after_sequence == current.sequence {
        return Ok(Some(Vec::new()));
    }
    match changes::oldest_held(&mut connection, environment_id).await? {
        Some(oldest) if oldest <= after_sequence + 1 => {}
        _ => return Ok(None),
    }
    let mut missed = Vec::new();
    let mut after = after_sequence;
    loop {
        let batch = changes::since(&mut connection, environment_id, after, 1_000).await?;
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
