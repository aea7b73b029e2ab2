//! The in-memory store every request reads: per environment an immutable, prepared
//! [`EnvironmentData`] behind an `Arc`, a broadcast channel of already-serialised SSE
//! notices, and an index from credential hashes to environments.
//!
//! One writer (the FlagSync feed, or the restore from the persistent copy at startup) applies changes in
//! sequence order; readers take a short read lock to clone an `Arc` and never wait on
//! serialisation, which happens before the lock is taken.

mod change;
mod credentials;
mod environment;
mod frames;
mod ids;
mod item;
mod payload;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustc_hash::FxHashMap;
use tokio::sync::broadcast;

use crate::fanout::{Fanout, Slot};

pub use change::{Change, ChangedItem, EnvironmentContents, Notice, RawItem};
pub use credentials::{hash_credential, unix_millis, Credential, CredentialHash, CredentialKind};
pub use environment::{tombstone_json, EnvironmentData};
pub use frames::HEARTBEAT;
pub use ids::{EnvironmentId, ItemKind};
pub use item::{FlagItem, Item, SegmentItem};
pub use payload::{json_map, Payload};

/// What a stream learns about its environment: the notice and the sequence number of the
/// state it leads to (a stream skips notices its last `put` already covered).
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub sequence: u64,
    pub notice: Notice,
    /// The flag or segment the change was about, for a single-item change (streams that
    /// evaluate, such as the client-side ones, send a per-flag update when they can).
    pub changed: Option<ChangedItem>,
}

/// A credential that matched, at the time it was checked.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub environment_id: EnvironmentId,
    /// What the credential authorises.
    pub kind: CredentialKind,
    pub credential: CredentialHash,
    /// When it stops working; `None` = never (unless revoked).
    pub expires_at: Option<SystemTime>,
}

/// Why a presented credential is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Nothing is loaded yet (neither config-api nor the persistent copy answered): retry later.
    #[error("the gateway has not loaded any data yet")]
    NotLoaded,
    /// Unknown, revoked, expired, or of another kind.
    #[error("unknown, revoked or expired credential")]
    Unknown,
}

/// A delta for an environment the store does not hold.
#[derive(Debug, thiserror::Error)]
#[error("change for environment {0}, which has no snapshot")]
pub struct UnknownEnvironment(pub EnvironmentId);

/// The gateway's data. Cheap to clone.
#[derive(Clone)]
pub struct Store(Arc<Inner>);

struct Inner {
    state: RwLock<State>,
    /// Serialises writers (the feed, the restore from the persistent copy); readers never take it.
    writer: Mutex<()>,
    /// Capacity of each environment's broadcast channel.
    buffer_events: usize,
    is_loaded: AtomicBool,
}

#[derive(Default)]
struct State {
    environments: FxHashMap<EnvironmentId, Entry>,
    credentials: HashMap<CredentialHash, EnvironmentId>,
}

struct Entry {
    data: Arc<EnvironmentData>,
    events: broadcast::Sender<StreamEvent>,
    /// Delivers the notices to the environment's `/all` streams on the fan-out path.
    fanout: Fanout,
}

impl Store {
    /// An empty store; each stream may fall `buffer_events` notices behind before it is
    /// resynchronised with a `put`.
    pub fn new(buffer_events: usize) -> Store {
        Store(Arc::new(Inner {
            state: RwLock::new(State::default()),
            writer: Mutex::new(()),
            buffer_events: buffer_events.max(1),
            is_loaded: AtomicBool::new(false),
        }))
    }

    /// Whether every environment has been loaded once (from config-api or the persistent copy).
    pub fn is_loaded(&self) -> bool {
        self.0.is_loaded.load(Ordering::Acquire)
    }

    /// Records that every environment has been loaded; from now on an unknown credential
    /// gets 401 instead of 503.
    pub fn mark_loaded(&self) {
        self.0.is_loaded.store(true, Ordering::Release);
    }

    /// The environment's current state.
    pub fn environment(&self, environment_id: &EnvironmentId) -> Option<Arc<EnvironmentData>> {
        let state = self.read();
        state
            .environments
            .get(environment_id)
            .map(|entry| entry.data.clone())
    }

    /// Every environment's id.
    pub fn environment_ids(&self) -> Vec<EnvironmentId> {
        self.read().environments.keys().cloned().collect()
    }

    /// Per environment, the sequence number of its current state (FlagSync `resume_from`).
    pub fn sequences(&self) -> HashMap<String, u64> {
        self.read()
            .environments
            .iter()
            .map(|(id, entry)| (id.as_str().to_owned(), entry.data.sequence()))
            .collect()
    }

    /// The current state and a receiver of every later notice, atomically: notices with
    /// a sequence number up to the returned state's are already reflected in it.
    pub fn subscribe(
        &self,
        environment_id: &EnvironmentId,
    ) -> Option<(Arc<EnvironmentData>, broadcast::Receiver<StreamEvent>)> {
        let state = self.read();
        let entry = state.environments.get(environment_id)?;
        Some((entry.data.clone(), entry.events.subscribe()))
    }

    /// Adds an `/all` stream to the environment's fan-out: `slot` builds it from the
    /// current data, and it joins under the same read lock, so every later notice reaches
    /// it and every earlier one is in that data. `None` when the environment is gone.
    /// Must run inside a Tokio runtime (the fan-out's shards start on the first join).
    pub fn join_fanout(
        &self,
        environment_id: &EnvironmentId,
        slot: impl FnOnce(&Arc<EnvironmentData>) -> Arc<Slot>,
    ) -> Option<Arc<Slot>> {
        let state = self.read();
        let entry = state.environments.get(environment_id)?;
        let slot = slot(&entry.data);
        entry.fanout.join(&entry.events, slot.clone());
        Some(slot)
    }

    /// How many notices a stream may fall behind before it is resynchronised.
    pub fn buffer_events(&self) -> usize {
        self.0.buffer_events
    }

    /// Hashes `presented` and finds the environment whose active credential of `kind` it
    /// is. Call it per request: no secret is kept and nothing is cached.
    pub fn authenticate(
        &self,
        presented: &str,
        kind: CredentialKind,
        now: SystemTime,
    ) -> Result<Authenticated, AuthError> {
        self.authenticate_matching(presented, now, |found| found == kind)
    }

    /// Like [`Store::authenticate`], for endpoints that accept a credential of any kind
    /// (OFREP); the kind found is in [`Authenticated::kind`].
    pub fn authenticate_any_kind(
        &self,
        presented: &str,
        now: SystemTime,
    ) -> Result<Authenticated, AuthError> {
        self.authenticate_matching(presented, now, |_| true)
    }

    fn authenticate_matching(
        &self,
        presented: &str,
        now: SystemTime,
        is_accepted: impl Fn(CredentialKind) -> bool,
    ) -> Result<Authenticated, AuthError> {
        if !self.is_loaded() {
            return Err(AuthError::NotLoaded);
        }
        let hash = hash_credential(presented);
        let data = {
            let state = self.read();
            let environment_id = state.credentials.get(&hash).ok_or(AuthError::Unknown)?;
            let entry = state
                .environments
                .get(environment_id)
                .ok_or(AuthError::Unknown)?;
            entry.data.clone()
        };
        let credential = data
            .active_credential(&hash, now)
            .filter(|credential| is_accepted(credential.kind))
            .ok_or(AuthError::Unknown)?;
        Ok(Authenticated {
            environment_id: data.environment_id().clone(),
            kind: credential.kind,
            credential: hash,
            expires_at: expiry(credential),
        })
    }

    /// Re-checks a credential accepted earlier (after a credential change): its expiry
    /// now, or `None` when it no longer works.
    pub fn recheck(
        &self,
        authenticated: &Authenticated,
        now: SystemTime,
    ) -> Option<Option<SystemTime>> {
        let data = self.environment(&authenticated.environment_id)?;
        let credential = data.active_credential(&authenticated.credential, now)?;
        Some(expiry(credential))
    }

    /// Applies one change at `sequence` and notifies the environment's streams. A
    /// `Replace` creates the environment; other changes need it to exist.
    pub fn apply(
        &self,
        environment_id: &EnvironmentId,
        sequence: u64,
        change: Change,
    ) -> Result<(), UnknownEnvironment> {
        let _writer = self.lock_writer();
        let current = self.environment(environment_id);
        let changed = change.changed_item();
        let (next, notice) = match (current, change) {
            (current, Change::Replace(contents)) => {
                let data = EnvironmentData::replaced(
                    environment_id.clone(),
                    sequence,
                    contents,
                    current.as_deref(),
                );
                (data, Notice::Replaced)
            }
            (Some(current), change) => current.apply(sequence, change),
            (None, _) => return Err(UnknownEnvironment(environment_id.clone())),
        };
        self.publish(Arc::new(next), notice, changed);
        Ok(())
    }

    /// Installs an environment read from the persistent copy unless the store already holds it at the
    /// same or a later sequence number (the feed got there first). Returns whether it did.
    pub fn restore(
        &self,
        environment_id: &EnvironmentId,
        sequence: u64,
        contents: EnvironmentContents,
    ) -> bool {
        let _writer = self.lock_writer();
        let current = self.environment(environment_id);
        if current
            .as_ref()
            .is_some_and(|current| current.sequence() >= sequence)
        {
            return false;
        }
        let data = EnvironmentData::replaced(
            environment_id.clone(),
            sequence,
            contents,
            current.as_deref(),
        );
        self.publish(Arc::new(data), Notice::Replaced, None);
        true
    }

    /// Forgets an environment: its credentials stop working and its streams end.
    pub fn remove(&self, environment_id: &EnvironmentId) {
        let _writer = self.lock_writer();
        let mut state = self.write();
        if let Some(entry) = state.environments.remove(environment_id) {
            for credential in entry.data.credentials() {
                if state.credentials.get(&credential.sha256) == Some(environment_id) {
                    state.credentials.remove(&credential.sha256);
                }
            }
            // Dropping the sender closes every receiver: the streams end.
        }
    }

    /// Swaps in `next`, re-indexes credentials, then notifies (outside the lock).
    fn publish(&self, next: Arc<EnvironmentData>, notice: Notice, changed: Option<ChangedItem>) {
        let sequence = next.sequence();
        let events = {
            let mut state = self.write();
            let state = &mut *state;
            let environment_id = next.environment_id().clone();
            let previous = state
                .environments
                .get(&environment_id)
                .map(|entry| entry.data.clone());
            if let Some(previous) = &previous {
                for credential in previous.credentials() {
                    if state.credentials.get(&credential.sha256) == Some(&environment_id) {
                        state.credentials.remove(&credential.sha256);
                    }
                }
            }
            for credential in next.credentials() {
                state
                    .credentials
                    .insert(credential.sha256, environment_id.clone());
            }
            let buffer_events = self.0.buffer_events;
            let entry = state
                .environments
                .entry(environment_id)
                .or_insert_with(|| Entry {
                    data: next.clone(),
                    events: broadcast::channel(buffer_events).0,
                    fanout: Fanout::default(),
                });
            entry.data = next;
            entry.events.clone()
        };
        if !matches!(notice, Notice::None) {
            // No receivers is fine: nobody is streaming this environment.
            let _ = events.send(StreamEvent {
                sequence,
                notice,
                changed,
            });
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.0.state.read().expect("store lock poisoned")
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.0.state.write().expect("store lock poisoned")
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        self.0.writer.lock().expect("store writer lock poisoned")
    }
}

fn expiry(credential: &Credential) -> Option<SystemTime> {
    credential
        .expires_at_unix_ms
        .map(|millis| UNIX_EPOCH + Duration::from_millis(millis.max(0) as u64))
}

#[cfg(test)]
mod tests;
