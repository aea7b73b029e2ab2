//! config-api integration tests: the service in-process on port 0, against a fresh
//! PostgreSQL database per test (`#[sqlx::test]`, server from `DATABASE_URL`), and in
//! `sqlite.rs` on a SQLite file in a fresh directory per test.

mod harness;

mod analytics;
mod approvals;
mod audit_log;
mod environments;
mod flags;
mod metrics;
mod openapi;
mod permissions;
mod scheduled_changes;
mod segments;
mod sequencing;
mod sqlite;
mod sync;
