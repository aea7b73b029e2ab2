//! The `PersistentCopy` contract (`persistent_copy/contract.rs`, written once) run against
//! every implementation: Redis at `VEXIL_TEST_REDIS_URL` under a unique key prefix (its
//! keys deleted afterwards) and memory.

mod contract;

use vexil_stream_gateway::config::RedisConfig;
use vexil_stream_gateway::persistence::{MemoryCopy, RedisStore};

use crate::harness::{redis_url, RedisPrefix};

/// One `#[tokio::test]` per contract case for an implementation; `$open` gives the copy
/// and a guard that lives as long as the test.
macro_rules! contract_tests {
    ($implementation:ident, $open:expr) => {
        mod $implementation {
            use super::*;

            #[tokio::test]
            async fn nothing_stored_loads_as_none() {
                let (copy, _guard) = $open;
                contract::nothing_stored_loads_as_none(&copy).await;
            }

            #[tokio::test]
            async fn replace_round_trips_items_tombstones_and_metadata() {
                let (copy, _guard) = $open;
                contract::replace_round_trips_items_tombstones_and_metadata(&copy).await;
            }

            #[tokio::test]
            async fn update_overwrites_its_items_and_metadata_only() {
                let (copy, _guard) = $open;
                contract::update_overwrites_its_items_and_metadata_only(&copy).await;
            }

            #[tokio::test]
            async fn replace_drops_items_missing_from_the_new_data() {
                let (copy, _guard) = $open;
                contract::replace_drops_items_missing_from_the_new_data(&copy).await;
            }

            #[tokio::test]
            async fn environments_are_kept_apart() {
                let (copy, _guard) = $open;
                contract::environments_are_kept_apart(&copy).await;
            }

            #[tokio::test]
            async fn removing_an_environment_forgets_only_it() {
                let (copy, _guard) = $open;
                contract::removing_an_environment_forgets_only_it(&copy).await;
            }
        }
    };
}

contract_tests!(memory, (MemoryCopy::new(), ()));
contract_tests!(redis, open_redis());

/// A Redis copy under a fresh prefix, and the prefix (whose keys go when it is dropped).
fn open_redis() -> (RedisStore, RedisPrefix) {
    let prefix = RedisPrefix::new();
    let config = RedisConfig {
        url: redis_url(),
        prefix: prefix.prefix.clone(),
    };
    (RedisStore::new(&config).unwrap(), prefix)
}
