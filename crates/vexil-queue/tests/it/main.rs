//! The queue's tests: the shared contract against the embedded log and against Kafka, then
//! what only a log on disk has (durability across reopening and crashes, segments and their
//! deletion, the directory).

mod contract;
mod directory;
mod durability;
mod group;
mod kafka_contract;
mod kafka_group;
mod retention;
mod support;
