//! The gateway's persistent copy of every environment, behind the `PersistentCopy` trait
//! (`copy.rs`): written after every change (`writer.rs`), read at startup when config-api
//! does not answer in time (`loader.rs`). Two implementations: Redis in LaunchDarkly's
//! Redis store layout (`redis_store.rs`, keys in `keys.rs`), the default, and memory
//! (`memory.rs`) for `vexil up`, where config-api's own store is durable. `open` picks one
//! from `persistence.kind`.

mod copy;
mod keys;
mod loader;
mod memory;
mod meta;
mod redis_store;
mod writer;

use std::sync::Arc;

pub use copy::{EnvironmentRecord, PersistentCopy, StoredItem};
pub use keys::Keys;
pub use loader::{load_all, StoredEnvironment};
pub use memory::MemoryCopy;
pub use meta::{GatewayMeta, META_FORMAT};
pub use redis_store::RedisStore;
pub use writer::{Mark, Persister};

use crate::config::{Config, PersistenceKind};

/// A failure of the persistent copy.
#[derive(Debug, thiserror::Error)]
pub enum PersistenceError {
    #[error("redis command failed")]
    Redis(#[from] redis::RedisError),
    #[error("stored gateway metadata for environment {environment_id} is invalid")]
    Meta {
        environment_id: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The copy `persistence.kind` asks for. Redis is prepared without connecting, so the
/// gateway starts while Redis is down; memory never touches `redis.*`.
pub fn open(config: &Config) -> Result<Arc<dyn PersistentCopy>, PersistenceError> {
    Ok(match config.persistence.kind {
        PersistenceKind::Redis => Arc::new(RedisStore::new(&config.redis)?),
        PersistenceKind::Memory => Arc::new(MemoryCopy::new()),
    })
}
