//! Tells every watcher on this replica about committed changes. The store feeds it
//! (`ConfigStore::start`): on PostgreSQL from LISTEN/NOTIFY, so changes committed through
//! any replica arrive; the hub itself knows no database.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::store::rows::Change;

/// What watchers receive.
#[derive(Debug, Clone)]
pub enum HubEvent {
    /// A committed change, in per-environment sequence order.
    Change(Arc<Change>),
    /// Changes may have been lost (the store's feed was interrupted): every watcher
    /// re-reads its environments from its last sequence number.
    Resync,
}

/// Broadcasts committed changes to this replica's watchers. Cheap to clone.
#[derive(Clone)]
pub struct ChangeHub {
    sender: broadcast::Sender<HubEvent>,
}

/// Events buffered per subscriber; one that falls further behind resyncs.
const CAPACITY: usize = 16 * 1024;

impl Default for ChangeHub {
    fn default() -> ChangeHub {
        ChangeHub::new()
    }
}

impl ChangeHub {
    /// A hub nothing feeds yet: the store publishes on it (`ConfigStore::start`).
    pub fn new() -> ChangeHub {
        let (sender, _) = broadcast::channel(CAPACITY);
        ChangeHub { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<HubEvent> {
        self.sender.subscribe()
    }

    /// Sends to every current subscriber; a store calls it for each committed change, in
    /// per-environment sequence order, and with `Resync` when it may have missed some.
    pub fn publish(&self, event: HubEvent) {
        let _ = self.sender.send(event);
    }
}
