//! Credential changes as FlagSync sees them.

use vexil_proto::config::v1 as proto;

use crate::store::kinds::{ChangeKind, CredentialKind};
use crate::store::rows::Credential;
use crate::store::{ConfigWrite, StoreError};

/// The wire form of a credential kind.
pub fn proto_kind(kind: CredentialKind) -> proto::CredentialKind {
    match kind {
        CredentialKind::Server => proto::CredentialKind::ServerSdkKey,
        CredentialKind::Mobile => proto::CredentialKind::MobileKey,
        CredentialKind::Client => proto::CredentialKind::ClientSideId,
    }
}

/// The wire form of a stored credential.
pub fn to_proto(credential: &Credential) -> proto::Credential {
    proto::Credential {
        id: credential.id.to_string(),
        kind: proto_kind(credential.kind()) as i32,
        sha256: credential.sha256.clone(),
        expires_at_unix_ms: credential
            .expires_at
            .map_or(0, |at| (at.unix_timestamp_nanos() / 1_000_000) as i64),
    }
}

/// Records that a credential was created, given an expiry, or revoked.
pub async fn record_change(
    session: &mut dyn ConfigWrite,
    credential: &Credential,
) -> Result<(), StoreError> {
    let payload = proto::CredentialChanged {
        credential: Some(to_proto(credential)),
        revoked: credential.revoked_at.is_some(),
    };
    session
        .record_change(
            credential.environment_id,
            ChangeKind::CredentialChanged,
            &credential.id.to_string(),
            0,
            prost::Message::encode_to_vec(&payload),
        )
        .await
}
