//! SDK credentials as the gateway knows them: the SHA-256 of the secret, its kind and
//! expiry. Presented keys are hashed and looked up; no secret is ever held.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// SHA-256 of a credential's UTF-8 bytes.
pub type CredentialHash = [u8; 32];

/// Hashes a credential as presented by an SDK.
pub fn hash_credential(credential: &str) -> CredentialHash {
    Sha256::digest(credential.as_bytes()).into()
}

/// What a credential authorises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// Server-side SDK key: `/all`, `/sdk/latest-all`, ...
    ServerSdkKey,
    /// Mobile key: `/msdk/...`, `/meval/...`.
    MobileKey,
    /// Client-side ID (public): `/sdk/evalx/{id}/...`, `/eval/{id}/...`.
    ClientSideId,
}

/// One active (or not yet expired) credential of an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// config-api's id of the credential.
    pub id: String,
    pub kind: CredentialKind,
    #[serde(with = "hex_hash")]
    pub sha256: CredentialHash,
    /// Unix milliseconds after which the credential stops working; `None` = never.
    pub expires_at_unix_ms: Option<i64>,
}

impl Credential {
    /// Whether the credential still works at `now`.
    pub fn is_active_at(&self, now: SystemTime) -> bool {
        self.expires_at_unix_ms
            .is_none_or(|expires_at| unix_millis(now) < expires_at)
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub fn unix_millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

/// The hash is hex in the gateway's own Redis metadata.
mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::CredentialHash;

    pub fn serialize<S: Serializer>(
        hash: &CredentialHash,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<CredentialHash, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut hash = [0u8; 32];
        hex::decode_to_slice(&text, &mut hash).map_err(serde::de::Error::custom)?;
        Ok(hash)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn expiry_is_exclusive() {
        let credential = Credential {
            id: "c".into(),
            kind: CredentialKind::ServerSdkKey,
            sha256: hash_credential("sdk-1"),
            expires_at_unix_ms: Some(1_000),
        };
        assert!(credential.is_active_at(UNIX_EPOCH + Duration::from_millis(999)));
        assert!(!credential.is_active_at(UNIX_EPOCH + Duration::from_millis(1_000)));
        let forever = Credential {
            expires_at_unix_ms: None,
            ..credential
        };
        assert!(forever.is_active_at(UNIX_EPOCH + Duration::from_secs(1 << 40)));
    }
}
