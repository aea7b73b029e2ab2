//! FlagSync and Credentials, the gRPC services the other services read configuration
//! through, and the `ChangeHub` that tells every watcher on this replica about changes
//! committed through any replica (PostgreSQL LISTEN/NOTIFY on `config.changes`).

mod hub;
mod snapshot;
mod watch;

pub mod credentials;

pub use hub::{ChangeHub, HubEvent};
pub use watch::FlagSyncService;

/// The channel the `config.changes` insert trigger notifies (see the migration).
pub const CHANGES_CHANNEL: &str = "vexil_config_changes";
