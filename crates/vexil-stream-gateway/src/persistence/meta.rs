//! What the gateway stores about an environment beyond LaunchDarkly's layout, so that a
//! restart without config-api can authenticate SDKs and later resume FlagSync.

use serde::{Deserialize, Serialize};

use crate::store::{Credential, EnvironmentData};

/// The JSON under `{prefix}:{environmentId}:$gateway`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayMeta {
    /// Layout version of this document.
    pub format: u32,
    /// The FlagSync sequence number the stored data is complete up to.
    pub sequence: u64,
    pub project_key: String,
    pub environment_key: String,
    pub credentials: Vec<Credential>,
}

pub const META_FORMAT: u32 = 1;

impl GatewayMeta {
    /// The metadata of `data`, claiming completeness up to `sequence`.
    pub fn of(data: &EnvironmentData, sequence: u64) -> GatewayMeta {
        GatewayMeta {
            format: META_FORMAT,
            sequence,
            project_key: data.project_key().to_owned(),
            environment_key: data.environment_key().to_owned(),
            credentials: data.credentials().to_vec(),
        }
    }
}
