//! Event ingest integration tests: config-api in-process on a fresh PostgreSQL database
//! per test (`#[sqlx::test]`, server from `DATABASE_URL`), the real Kafka-protocol broker
//! at `VEXIL_TEST_KAFKA_BROKERS` with a topic per test, and event ingest on `127.0.0.1:0`.
//! `embedded` runs ingest and the worker on `vexil up`'s embedded queue instead of Kafka.

mod harness;

mod accepted;
mod binary;
mod broker_pause;
mod cors;
mod embedded;
mod refused;
mod unavailable;
