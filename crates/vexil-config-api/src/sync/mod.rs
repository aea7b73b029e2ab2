//! FlagSync and Credentials, the gRPC services the other services read configuration
//! through, and the `ChangeHub` that tells every watcher on this replica about changes
//! committed through any replica (the store feeds it).

mod hub;
mod snapshot;
mod watch;

pub mod credentials;

pub use hub::{ChangeHub, HubEvent};
pub use watch::FlagSyncService;
