//! The Redis key layout. Below `{prefix}:{environmentId}` it is LaunchDarkly's persistent
//! store layout, so an SDK in daemon mode configured with that prefix reads it directly;
//! keys starting with `$gateway` belong to the gateway alone.

use crate::store::{EnvironmentId, ItemKind};

/// LaunchDarkly's "this store holds a complete data set" marker, below the prefix.
pub const INITED_SUFFIX: &str = "$inited";
/// The gateway's own metadata for an environment (sequence, keys, credentials), below
/// the environment's prefix.
pub const GATEWAY_META_SUFFIX: &str = "$gateway";
/// The set of environment ids the gateway has stored, below the global prefix.
pub const ENVIRONMENTS_SUFFIX: &str = "$gateway:environments";

/// Builds every key from the configured prefix (`redis.prefix`, default `vexil`).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.to_owned(),
        }
    }

    /// What a LaunchDarkly SDK in daemon mode uses as its Redis prefix.
    pub fn environment_prefix(&self, environment_id: &EnvironmentId) -> String {
        format!("{}:{environment_id}", self.prefix)
    }

    /// The hash of flags (`features`) or segments (`segments`): field = key, value = JSON.
    pub fn items(&self, environment_id: &EnvironmentId, kind: ItemKind) -> String {
        format!("{}:{environment_id}:{}", self.prefix, kind.namespace())
    }

    pub fn inited(&self, environment_id: &EnvironmentId) -> String {
        format!("{}:{environment_id}:{INITED_SUFFIX}", self.prefix)
    }

    pub fn gateway_meta(&self, environment_id: &EnvironmentId) -> String {
        format!("{}:{environment_id}:{GATEWAY_META_SUFFIX}", self.prefix)
    }

    pub fn environments(&self) -> String {
        format!("{}:{ENVIRONMENTS_SUFFIX}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_launchdarkly_below_the_environment_prefix() {
        let keys = Keys::new("vexil");
        let environment_id = EnvironmentId::new("e1");
        assert_eq!(keys.environment_prefix(&environment_id), "vexil:e1");
        assert_eq!(
            keys.items(&environment_id, ItemKind::Flag),
            "vexil:e1:features"
        );
        assert_eq!(
            keys.items(&environment_id, ItemKind::Segment),
            "vexil:e1:segments"
        );
        assert_eq!(keys.inited(&environment_id), "vexil:e1:$inited");
        assert_eq!(keys.gateway_meta(&environment_id), "vexil:e1:$gateway");
        assert_eq!(keys.environments(), "vexil:$gateway:environments");
    }
}
