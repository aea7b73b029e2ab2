//! Stream gateway integration tests: config-api in-process on a fresh PostgreSQL database
//! per test (`#[sqlx::test]`, server from `DATABASE_URL`), the real Redis at
//! `VEXIL_TEST_REDIS_URL` under a unique key prefix, and the gateway on `127.0.0.1:0`. The
//! persistent copy's contract runs against Redis and memory (`persistent_copy.rs`).

mod client_env;
mod harness;

mod auth;
mod client_side;
mod client_stream;
mod cors;
mod memory_copy;
mod metrics;
mod ofrep;
mod persistent_copy;
mod polling;
mod python_sdk;
mod redis_store;
mod resilience;
mod streaming;
