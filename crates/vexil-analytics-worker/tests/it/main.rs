//! analytics-worker against real PostgreSQL (`#[sqlx::test]`, a fresh database per test)
//! or a SQLite file in a temporary directory, and the real Kafka-protocol broker at
//! `VEXIL_TEST_KAFKA_BROKERS` (a fresh topic per test).

mod crash;
mod pipeline;
mod process;
mod replicas;
mod sqlite;
mod stream;
mod support;
