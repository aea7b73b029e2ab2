//! The SQL: one file per table family, every query checked at compile time against
//! `migrations/`. Functions take a connection (usually a transaction) so a route can
//! compose several writes, its audit entry and its FlagSync change in one commit. What the
//! reads return (`rows`) and the kinds stored as text (`kinds`) do not depend on the SQL,
//! so a second store can fill the same types.

pub mod approvals;
pub mod audit;
pub mod changes;
pub mod credentials;
pub mod environments;
mod error;
pub mod flags;
pub mod kinds;
pub mod params;
pub mod projects;
pub mod rows;
pub mod scheduled_changes;
pub mod segments;
pub mod sequencing;
pub mod sqlite;
pub mod tokens;
mod traits;

pub use error::StoreError;
pub use traits::{ConfigRead, ConfigStore, ConfigWrite, StoreResult};

/// `now()` at PostgreSQL's precision (microseconds), so what is hashed or compared equals
/// what is stored.
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("a truncated nanosecond is in range")
}
