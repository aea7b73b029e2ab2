//! FlagSync watch events in the store's terms.

use bytes::Bytes;
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::watch_event::Event;

use crate::persistence::Mark;
use crate::store::{Change, Credential, CredentialKind, EnvironmentContents, ItemKind, RawItem};

/// What one watch event means for the gateway.
pub enum Converted {
    Change(Change),
    EnvironmentDeleted,
    Synced,
}

/// A watch event the gateway cannot use.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("watch event without an event")]
    Empty,
    #[error("credential change without a credential")]
    MissingCredential,
    #[error("credential `{id}` has an unknown kind {kind}")]
    CredentialKind { id: String, kind: i32 },
    #[error("credential `{id}` has a SHA-256 of {length} bytes")]
    CredentialHash { id: String, length: usize },
}

pub fn convert(event: proto::WatchEvent) -> Result<Converted, ConvertError> {
    let converted = match event.event.ok_or(ConvertError::Empty)? {
        Event::Snapshot(snapshot) => Converted::Change(Change::Replace(EnvironmentContents {
            project_key: snapshot.project_key,
            environment_key: snapshot.environment_key,
            flags: snapshot.flags.into_iter().map(flag).collect(),
            segments: snapshot.segments.into_iter().map(segment).collect(),
            deleted: Vec::new(),
            credentials: snapshot
                .credentials
                .into_iter()
                .map(credential)
                .collect::<Result<_, _>>()?,
        })),
        Event::FlagUpsert(upsert) => Converted::Change(Change::Upsert {
            kind: ItemKind::Flag,
            item: flag(upsert),
        }),
        Event::SegmentUpsert(upsert) => Converted::Change(Change::Upsert {
            kind: ItemKind::Segment,
            item: segment(upsert),
        }),
        Event::FlagDeleted(deleted) => Converted::Change(Change::Delete {
            kind: ItemKind::Flag,
            key: deleted.key,
            version: deleted.version,
        }),
        Event::SegmentDeleted(deleted) => Converted::Change(Change::Delete {
            kind: ItemKind::Segment,
            key: deleted.key,
            version: deleted.version,
        }),
        Event::CredentialChanged(changed) => Converted::Change(Change::Credential {
            credential: credential(changed.credential.ok_or(ConvertError::MissingCredential)?)?,
            is_revoked: changed.revoked,
        }),
        Event::EnvironmentDeleted(_) => Converted::EnvironmentDeleted,
        Event::Synced(_) => Converted::Synced,
    };
    Ok(converted)
}

/// What Redis must rewrite after `change`.
pub fn mark(change: &Change) -> Mark {
    match change {
        Change::Replace(_) => Mark::Full,
        Change::Upsert { kind, item } => Mark::Item(*kind, item.key.clone()),
        Change::Delete { kind, key, .. } => Mark::Item(*kind, key.clone()),
        Change::Credential { .. } => Mark::Meta,
    }
}

fn flag(upsert: proto::FlagUpsert) -> RawItem {
    RawItem {
        key: upsert.key,
        version: upsert.version,
        json: Bytes::from(upsert.json),
    }
}

fn segment(upsert: proto::SegmentUpsert) -> RawItem {
    RawItem {
        key: upsert.key,
        version: upsert.version,
        json: Bytes::from(upsert.json),
    }
}

fn credential(credential: proto::Credential) -> Result<Credential, ConvertError> {
    let kind = match proto::CredentialKind::try_from(credential.kind) {
        Ok(proto::CredentialKind::ServerSdkKey) => CredentialKind::ServerSdkKey,
        Ok(proto::CredentialKind::MobileKey) => CredentialKind::MobileKey,
        Ok(proto::CredentialKind::ClientSideId) => CredentialKind::ClientSideId,
        Ok(proto::CredentialKind::Unspecified) | Err(_) => {
            return Err(ConvertError::CredentialKind {
                id: credential.id,
                kind: credential.kind,
            })
        }
    };
    let sha256 =
        credential
            .sha256
            .as_slice()
            .try_into()
            .map_err(|_| ConvertError::CredentialHash {
                id: credential.id.clone(),
                length: credential.sha256.len(),
            })?;
    Ok(Credential {
        id: credential.id,
        kind,
        sha256,
        expires_at_unix_ms: (credential.expires_at_unix_ms != 0)
            .then_some(credential.expires_at_unix_ms),
    })
}
