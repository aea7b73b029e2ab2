//! Delivering an environment's changes to its `/all` streams without waking them.
//!
//! Every `/all` stream receives the same bytes for a change: the store's pre-serialised
//! `patch` or `delete`. Waking one task per stream to copy them out (a broadcast
//! receiver, the response body, a vectored write) made each delivery cost two task polls
//! and several locks on top of its system call. Instead, each environment has one shard
//! per runtime worker thread; a shard receives the environment's notices and writes each
//! change, framed once as an HTTP chunk, straight to the sockets of its streams
//! ([`Slot::offer`]). A stream's own task only wakes when the shard could not write at
//! once, or for what only it can do: a fresh `put`, a credential check, the end.
//!
//! Streams join through [`Store::join_fanout`](crate::store::Store::join_fanout), under
//! the store's read lock: a notice published before that is reflected in the data the
//! stream starts from, and one published after reaches the shard after the stream joined.
//!
//! Only `/all` streams served by `server/sse_connection.rs` over HTTP/1.1 take this path;
//! the others (client-side streams, which evaluate per context; HTTP/1.0; a stream
//! served through hyper) read the broadcast through their [`Connection`].
//!
//! [`Connection`]: crate::streaming::Connection

mod handoff;
mod slot;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use tokio::sync::broadcast::{self, error::RecvError};

pub use handoff::{Handed, Handoff};
pub use slot::{Chunk, Flushed, Outlet, Slot};

use crate::store::{Notice, StreamEvent};

/// Slots a shard serves before it lets other tasks on its worker run.
const SLOTS_PER_TURN: usize = 1024;

/// One environment's fan-out. Cheap to clone.
#[derive(Clone, Default)]
pub struct Fanout(Arc<Shards>);

#[derive(Default)]
struct Shards {
    /// Spawned on the first join, which runs inside the runtime.
    shards: OnceLock<Vec<Arc<Shard>>>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Shard {
    /// Slots that joined since the shard last received a notice.
    joining: Mutex<Vec<Arc<Slot>>>,
    /// Notified when one of its slots closes: the shard drops the closed ones, so an
    /// environment without changes does not keep its departed streams.
    closed: Arc<tokio::sync::Notify>,
}

impl Fanout {
    /// Adds `slot`. Call it with the environment's sender while holding the store's lock
    /// under which the slot's starting data was read. Must run inside a Tokio runtime.
    pub fn join(&self, events: &broadcast::Sender<StreamEvent>, slot: Arc<Slot>) {
        let shards = self.0.shards.get_or_init(|| {
            let count = tokio::runtime::Handle::current().metrics().num_workers();
            (0..count.max(1))
                .map(|_| {
                    let shard = Arc::new(Shard::default());
                    tokio::spawn(run(shard.clone(), events.subscribe()));
                    shard
                })
                .collect()
        });
        let shard = &shards[self.0.next.fetch_add(1, Ordering::Relaxed) % shards.len()];
        slot.tell_on_close(shard.closed.clone());
        lock(&shard.joining).push(slot);
    }
}

/// A shard: receives the environment's notices and hands each to its slots, until the
/// environment is gone.
async fn run(shard: Arc<Shard>, mut events: broadcast::Receiver<StreamEvent>) {
    let mut slots: Vec<Arc<Slot>> = Vec::new();
    loop {
        let received = tokio::select! {
            received = events.recv() => received,
            () = shard.closed.notified() => {
                slots.append(&mut lock(&shard.joining));
                slots.retain(|slot| slot.is_open());
                if slots.capacity() > 2 * slots.len() + 64 {
                    slots.shrink_to_fit();
                }
                continue;
            }
        };
        slots.append(&mut lock(&shard.joining));
        let deliver: Box<dyn Fn(&Slot) -> bool + Send> = match received {
            Ok(StreamEvent {
                sequence,
                notice: Notice::Frame(frame),
                ..
            }) => {
                let chunk = chunk(&frame);
                Box::new(move |slot| slot.offer(sequence, &chunk))
            }
            Ok(StreamEvent {
                sequence,
                notice: Notice::Replaced | Notice::None,
                ..
            }) => Box::new(move |slot| slot.offer_full(Some(sequence))),
            Ok(StreamEvent {
                notice: Notice::CredentialsChanged,
                ..
            }) => Box::new(Slot::offer_recheck),
            Err(RecvError::Lagged(skipped)) => {
                tracing::debug!(
                    skipped,
                    "stream shard fell behind, resynchronising its streams"
                );
                // Changes, snapshots or credential changes may be among the skipped.
                Box::new(|slot| slot.offer_full(None) && slot.offer_recheck())
            }
            Err(RecvError::Closed) => {
                for slot in &slots {
                    slot.end();
                }
                return;
            }
        };
        let mut index = 0;
        let mut served = 0;
        while index < slots.len() {
            if deliver(&slots[index]) {
                index += 1;
            } else {
                slots.swap_remove(index);
            }
            served += 1;
            if served % SLOTS_PER_TURN == 0 {
                tokio::task::yield_now().await;
            }
        }
    }
}

/// `frame` as one HTTP/1.1 chunk: size line, the bytes, CRLF.
pub fn chunk(frame: &[u8]) -> Bytes {
    let mut size_line = [0u8; 18];
    let length = crate::server::chunk_size_line(frame.len(), &mut size_line);
    let mut chunk = Vec::with_capacity(length + frame.len() + 2);
    chunk.extend_from_slice(&size_line[..length]);
    chunk.extend_from_slice(frame);
    chunk.extend_from_slice(b"\r\n");
    Bytes::from(chunk)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
