//! Redis as the gateway's persistent copy, in LaunchDarkly's Redis store layout: written
//! after every change (`writer.rs`), read at startup when config-api does not answer in
//! time (`loader.rs`). Keys are in `keys.rs`.

mod keys;
mod loader;
mod meta;
mod writer;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

pub use keys::Keys;
pub use loader::{load_all, StoredEnvironment};
pub use meta::GatewayMeta;
pub use writer::{Mark, Persister};

use crate::config::RedisConfig;

/// A Redis failure.
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

/// A connection to Redis (reconnecting by itself) and the key layout. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    keys: Keys,
}

impl RedisStore {
    /// Prepares a connection without opening it, so the gateway starts while Redis is
    /// down; commands fail (and are retried by their callers) until it is back.
    pub fn new(config: &RedisConfig) -> Result<RedisStore, PersistenceError> {
        let client = redis::Client::open(config.url.as_str())?;
        let connection = client.get_connection_manager_lazy(
            ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(10)))
                .set_number_of_retries(1)
                .set_max_delay(Duration::from_secs(2)),
        )?;
        Ok(RedisStore {
            connection,
            keys: Keys::new(&config.prefix),
        })
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}
