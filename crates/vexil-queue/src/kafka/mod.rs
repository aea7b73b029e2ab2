//! The queue on Kafka brokers, through librdkafka (feature `kafka`): [`KafkaProducer`]
//! appends with an idempotent producer, [`KafkaConsumer`] reads by manual assignment of
//! every partition from offsets the caller keeps (`subscribe`: no group, nothing
//! committed) or as a consumer group member whose partitions start at offsets the caller
//! keeps (`join`: the group's committed offsets are never read).
//!
//! Start with `producer.rs` and `subscription.rs`. `partitions.rs` owns a subscription's
//! positions, one `Cursor` per partition read; `cursor.rs` holds the one subtle part: how
//! a subscription notices a broker that answers a fetch from inside a record batch with
//! the next batch (tansu 0.6 does) and reads the skipped records anyway. `group.rs` applies
//! a group's rebalances; `context.rs` is librdkafka's callbacks; `watermarks.rs` keeps
//! what `lag` answers from; `message.rs` turns librdkafka's messages into records;
//! `admin.rs` creates topics. The guarantees and settings are in this crate's `README.md`.

mod admin;
mod consumer;
mod context;
mod cursor;
mod delivery;
mod group;
mod message;
mod options;
mod partitions;
mod producer;
mod subscription;
mod watermarks;

pub use admin::create_topic;
pub use consumer::KafkaConsumer;
pub use options::KafkaOptions;
pub use producer::KafkaProducer;

use rdkafka::ClientConfig;

/// A client's settings: the brokers and the client id, then `tunables` (the client's own
/// settings from [`KafkaOptions`]), then the operator's extra properties, which so override
/// both. Each client then sets what its guarantees rest on, after these.
fn client_config(options: &KafkaOptions, tunables: &[(&str, String)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &options.brokers)
        .set("client.id", &options.client_id);
    for (name, value) in tunables {
        config.set(*name, value);
    }
    for (name, value) in &options.properties {
        config.set(name, value);
    }
    config
}

/// Librdkafka takes timeouts in whole milliseconds, as text.
fn millis(duration: std::time::Duration) -> String {
    duration.as_millis().to_string()
}
