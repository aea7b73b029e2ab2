//! Where config-api keeps its data: the traits every store implements (`traits.rs`:
//! `ConfigStore` opens sessions, `ConfigRead` reads, `ConfigWrite` is one transaction), and
//! the implementations, picked by `database.url` in [`connect`]:
//!
//! - `postgres/`: the schema `config` (`migrations/`), every query checked at compile time
//!   (offline data in `.sqlx/`), with the sequencer and the LISTEN task that number,
//!   chain and publish what writes committed.
//! - `sqlite/`: one file (`migrations_sqlite/`), queries checked at run time (the contract
//!   suite prepares every one), one writer that numbers and chains inside its transaction
//!   and publishes at commit; for `vexil up`.
//!
//! The rules (`mutations/`, `instructions/`, `sync/`, `scheduler.rs`) are written once
//! against the traits, so "validate, version, record the FlagSync change and the audit
//! entry in one commit" holds on every store. What the reads return (`rows`), what callers
//! pass (`params`) and the kinds stored as text (`kinds`) do not depend on the SQL.

mod connect;
mod error;
pub mod kinds;
pub mod params;
pub mod postgres;
pub mod rows;
pub mod sqlite;
mod traits;

pub use connect::{connect, DATABASE_KINDS};
pub use error::StoreError;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use traits::{ConfigRead, ConfigStore, ConfigWrite, StoreResult};

/// `now()` at PostgreSQL's precision (microseconds), so what is hashed or compared equals
/// what is stored.
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("a truncated nanosecond is in range")
}
