//! One `/all` stream on the fan-out path: the socket both writers share and the bytes
//! waiting for it, behind one lock that orders every write.
//!
//! Two writers use a slot. The environment's fan-out shard writes each change's frame
//! straight to the socket when nothing is waiting, without waking the stream's task. The
//! stream's task writes everything else (the response head, the first `put`, heartbeats,
//! a fresh `put`) and whatever the shard could not write at once. Whoever writes holds
//! the lock, and a writer only writes when nothing is queued before it, so the client
//! receives bytes in the order they were queued.
//!
//! Memory stays bounded: a stream whose socket stays full queues at most `capacity`
//! frames; the next one drops them and marks the stream for a fresh `put` of the current
//! data, as a lagging broadcast receiver was before.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::task::AtomicWaker;

/// Where a slot's bytes go: a socket that never blocks the caller.
pub trait Outlet: Send + Sync + 'static {
    /// Writes what it can at once; `WouldBlock` when nothing could be written.
    fn try_write_vectored(&self, pieces: &[IoSlice<'_>]) -> io::Result<usize>;
}

impl Outlet for tokio::net::TcpStream {
    fn try_write_vectored(&self, pieces: &[IoSlice<'_>]) -> io::Result<usize> {
        tokio::net::TcpStream::try_write_vectored(self, pieces)
    }
}

/// Pieces handed to one vectored write.
const PIECES_PER_WRITE: usize = 8;

/// A stream's socket, queue and pending requests to its task.
pub struct Slot {
    state: Mutex<State>,
    /// Set with [`Slot::waker`] when the task has something to do: something is queued,
    /// or it must resync, recheck or end. (A flag and a waker rather than a `Notify`
    /// and its future: an idle stream keeps as little as possible.)
    is_woken: AtomicBool,
    waker: AtomicWaker,
    /// Tells the shard holding the slot that it closed, so the shard lets go of it.
    on_close: OnceLock<Arc<tokio::sync::Notify>>,
}

/// One HTTP chunk (or the response head) waiting to be written: up to three pieces, so a
/// `put` is sent from the environment's shared bytes without copying them per stream.
#[derive(Debug)]
pub struct Chunk {
    pieces: [Bytes; 3],
    /// A fresh `put` supersedes it (changes, heartbeats, an older `put`); the response
    /// head is not.
    is_droppable: bool,
}

impl Chunk {
    /// The response head, written before anything else.
    pub fn head(head: Bytes) -> Chunk {
        Chunk {
            pieces: [head, Bytes::new(), Bytes::new()],
            is_droppable: false,
        }
    }

    /// A chunk of its pieces, written one after the other.
    pub fn of(pieces: [Bytes; 3]) -> Chunk {
        Chunk {
            pieces,
            is_droppable: true,
        }
    }

    /// One piece: a change's chunk, a heartbeat.
    fn frame(bytes: Bytes) -> Chunk {
        Chunk::of([bytes, Bytes::new(), Bytes::new()])
    }

    fn is_written(&self) -> bool {
        self.pieces.iter().all(Bytes::is_empty)
    }
}

struct State {
    /// `None` once the stream's task has ended: the shard drops the slot.
    outlet: Option<Arc<dyn Outlet>>,
    /// Chunks not yet written, in order.
    queue: VecDeque<Chunk>,
    /// Part of the front chunk has been written: it must be completed before anything
    /// else, and it cannot be dropped.
    is_front_started: bool,
    /// Chunks that may wait before the stream is resynchronised instead.
    capacity: usize,
    /// The sequence number of the state the client has been sent or will be by the queue.
    sent_sequence: u64,
    /// The stream must get a fresh `put` once the queue is written.
    needs_full: bool,
    /// The stream's credential must be checked again.
    needs_recheck: bool,
    /// The environment is gone: the stream must end.
    is_ended: bool,
    /// A write failed: the client is gone.
    failed: Option<io::Error>,
}

/// What the stream's task must do after [`Slot::flush`].
#[derive(Debug)]
pub enum Flushed {
    /// Everything queued is written; wait for the next wake-up.
    Idle,
    /// Bytes remain: wait until the socket is writable.
    Blocked,
    /// Queue a fresh full frame ([`Slot::queue_full`]), then flush again.
    NeedsFull,
    /// The environment is gone.
    Ended,
    /// A write failed.
    Failed(io::Error),
}

impl Slot {
    /// A slot whose client has been sent, or will be by `chunks`, the state at
    /// `sequence`; at most `capacity` chunks may wait.
    pub fn new(
        outlet: Arc<dyn Outlet>,
        sequence: u64,
        chunks: impl IntoIterator<Item = Chunk>,
        capacity: usize,
    ) -> Slot {
        Slot {
            state: Mutex::new(State {
                outlet: Some(outlet),
                queue: chunks.into_iter().collect(),
                is_front_started: false,
                capacity: capacity.max(1),
                sent_sequence: sequence,
                needs_full: false,
                needs_recheck: false,
                is_ended: false,
                failed: None,
            }),
            is_woken: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            on_close: OnceLock::new(),
        }
    }

    /// Ready once the shard has had something for the task since the last time it was.
    pub fn poll_woken(&self, context: &mut Context<'_>) -> Poll<()> {
        if self.is_woken.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(context.waker());
        if self.is_woken.swap(false, Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    fn wake(&self) {
        self.is_woken.store(true, Ordering::Release);
        self.waker.wake();
    }

    // ---- The shard's side. Each returns whether the shard should keep the slot.

    /// Sends `chunk` (a change's complete HTTP chunk, shared by every stream) unless the
    /// client already has `sequence`: written at once when nothing waits, queued
    /// otherwise.
    pub fn offer(&self, sequence: u64, chunk: &Bytes) -> bool {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(outlet) = &state.outlet else {
            return false;
        };
        if sequence <= state.sent_sequence || state.failed.is_some() || state.is_ended {
            return true;
        }
        state.sent_sequence = sequence;
        if state.needs_full {
            // The fresh `put` is read after this change: it covers it.
            return true;
        }
        if state.queue.is_empty() {
            match outlet.try_write_vectored(&[IoSlice::new(chunk)]) {
                Ok(written) if written == chunk.len() => return true,
                Ok(written) => {
                    state.queue.push_back(Chunk::frame(chunk.slice(written..)));
                    state.is_front_started = written > 0;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    state.queue.push_back(Chunk::frame(chunk.clone()))
                }
                Err(error) => state.failed = Some(error),
            }
        } else if state.queue.len() >= state.capacity {
            state.drop_superseded();
            state.needs_full = true;
        } else {
            state.queue.push_back(Chunk::frame(chunk.clone()));
        }
        drop(guard);
        self.wake();
        true
    }

    /// After a snapshot at `sequence`, or after the shard fell behind (`None`): the
    /// stream needs a fresh `put` unless it already has `sequence`.
    pub fn offer_full(&self, sequence: Option<u64>) -> bool {
        let mut state = self.lock();
        if state.outlet.is_none() {
            return false;
        }
        if sequence.is_some_and(|sequence| sequence <= state.sent_sequence) {
            return true;
        }
        state.drop_superseded();
        state.needs_full = true;
        drop(state);
        self.wake();
        true
    }

    /// The credentials of the environment changed: the task checks its own again.
    pub fn offer_recheck(&self) -> bool {
        let mut state = self.lock();
        if state.outlet.is_none() {
            return false;
        }
        state.needs_recheck = true;
        drop(state);
        self.wake();
        true
    }

    /// The environment is gone: the stream ends.
    pub fn end(&self) {
        self.lock().is_ended = true;
        self.wake();
    }

    /// Who to tell when the slot closes (set once, when it joins a shard).
    pub(super) fn tell_on_close(&self, shard: Arc<tokio::sync::Notify>) {
        let _ = self.on_close.set(shard);
    }

    /// Whether the stream's task still runs.
    pub fn is_open(&self) -> bool {
        self.lock().outlet.is_some()
    }

    // ---- The stream task's side.

    /// Writes what is queued, as far as the socket takes it.
    pub fn flush(&self) -> Flushed {
        let mut state = self.lock();
        if let Some(error) = state.failed.take() {
            return Flushed::Failed(error);
        }
        if state.is_ended {
            return Flushed::Ended;
        }
        let Some(outlet) = state.outlet.clone() else {
            return Flushed::Ended;
        };
        while let Some(front) = state.queue.front() {
            if front.is_written() {
                state.queue.pop_front();
                state.is_front_started = false;
                continue;
            }
            let mut pieces = [IoSlice::new(&[]); PIECES_PER_WRITE];
            let mut count = 0;
            for piece in state.queue.iter().flat_map(|chunk| chunk.pieces.iter()) {
                if count == PIECES_PER_WRITE {
                    break;
                }
                if !piece.is_empty() {
                    pieces[count] = IoSlice::new(piece);
                    count += 1;
                }
            }
            match outlet.try_write_vectored(&pieces[..count]) {
                Ok(0) => return Flushed::Failed(io::ErrorKind::WriteZero.into()),
                Ok(written) => state.advance(written),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
                Err(error) => return Flushed::Failed(error),
            }
        }
        // Most streams stay idle for long after their first `put`: keep no buffer.
        state.queue = VecDeque::new();
        if state.needs_full {
            Flushed::NeedsFull
        } else {
            Flushed::Idle
        }
    }

    /// Queues a fresh full frame: `read` runs under the slot's lock, so a change the
    /// shard offers meanwhile is either in what it reads or sent after it. `false` when
    /// `read` found nothing (the environment is gone).
    pub fn queue_full<F>(&self, read: F) -> bool
    where
        F: FnOnce() -> Option<(u64, Chunk)>,
    {
        let mut state = self.lock();
        let Some((sequence, chunk)) = read() else {
            return false;
        };
        state.needs_full = false;
        state.sent_sequence = state.sent_sequence.max(sequence);
        state.queue.push_back(chunk);
        true
    }

    /// Queues a heartbeat unless bytes are already waiting (which will do instead).
    pub fn queue_heartbeat(&self, chunk: Bytes) {
        let mut state = self.lock();
        if state.queue.is_empty() {
            state.queue.push_back(Chunk::frame(chunk));
        }
    }

    /// Whether the credential must be checked again (once per request).
    pub fn take_recheck(&self) -> bool {
        std::mem::take(&mut self.lock().needs_recheck)
    }

    /// Detaches the socket: the shard stops writing and drops the slot. Returns whether
    /// no chunk was left half written, so a closing chunk may follow.
    pub fn close(&self) -> bool {
        let mut state = self.lock();
        state.outlet = None;
        let is_clean = !state.is_front_started;
        state.queue.clear();
        drop(state);
        if let Some(shard) = self.on_close.get() {
            shard.notify_one();
        }
        is_clean
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding it leaves the queue as consistent as between two
        // writes; carry on rather than poison every later write.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    /// Drops what a fresh `put` makes unnecessary, keeping the response head and a
    /// partly written chunk, which must be completed.
    fn drop_superseded(&mut self) {
        let keep_front = self.is_front_started;
        let mut index = 0;
        self.queue.retain(|chunk| {
            let keep = !chunk.is_droppable || (index == 0 && keep_front);
            index += 1;
            keep
        });
    }

    fn advance(&mut self, mut written: usize) {
        while written > 0 {
            let front = self
                .queue
                .front_mut()
                .expect("the socket took no more bytes than were queued");
            for piece in &mut front.pieces {
                let taken = written.min(piece.len());
                piece.advance(taken);
                written -= taken;
            }
            if front.is_written() {
                self.queue.pop_front();
                self.is_front_started = false;
            } else {
                self.is_front_started = true;
            }
        }
    }
}
