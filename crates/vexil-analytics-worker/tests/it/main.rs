//! analytics-worker against real PostgreSQL (`#[sqlx::test]`, a fresh database per test)
//! and the real Kafka-protocol broker at `VEXIL_TEST_KAFKA_BROKERS` (a fresh topic per
//! test).

mod crash;
mod pipeline;
mod support;
