use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::store::{Change, EnvironmentContents, EnvironmentId, ItemKind, RawItem, Store};

/// A socket that takes `room` more bytes, then blocks.
#[derive(Default)]
struct FakeSocket {
    written: Mutex<Vec<u8>>,
    room: AtomicUsize,
}

impl FakeSocket {
    fn with_room(room: usize) -> Arc<FakeSocket> {
        let socket = FakeSocket::default();
        socket.room.store(room, Ordering::SeqCst);
        Arc::new(socket)
    }

    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.written.lock().unwrap())).unwrap()
    }

    fn open(&self, room: usize) {
        self.room.store(room, Ordering::SeqCst);
    }
}

impl Outlet for FakeSocket {
    fn try_write_vectored(&self, pieces: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut room = self.room.load(Ordering::SeqCst);
        if room == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let mut written = self.written.lock().unwrap();
        let mut total = 0;
        for piece in pieces {
            let taken = piece.len().min(room);
            written.extend_from_slice(&piece[..taken]);
            room -= taken;
            total += taken;
        }
        self.room.store(room, Ordering::SeqCst);
        Ok(total)
    }
}

const ROOMY: usize = usize::MAX / 2;

fn slot(socket: &Arc<FakeSocket>, queued: Vec<Chunk>, capacity: usize) -> Slot {
    let outlet: Arc<dyn Outlet> = socket.clone();
    Slot::new(outlet, 1, queued, capacity)
}

fn piece(text: &'static str) -> Chunk {
    Chunk::of([
        Bytes::from_static(text.as_bytes()),
        Bytes::new(),
        Bytes::new(),
    ])
}

fn put(text: &'static str) -> Chunk {
    Chunk::of([
        Bytes::from_static(b"<"),
        Bytes::from_static(text.as_bytes()),
        Bytes::from_static(b">"),
    ])
}

#[test]
fn a_change_is_written_at_once_when_nothing_waits_and_only_once() {
    let socket = FakeSocket::with_room(ROOMY);
    let slot = slot(&socket, Vec::new(), 8);
    assert!(slot.offer(2, &Bytes::from_static(b"two")));
    assert!(slot.offer(2, &Bytes::from_static(b"two again")));
    assert!(slot.offer(1, &Bytes::from_static(b"older")));
    assert_eq!(socket.take(), "two");
    assert!(matches!(slot.flush(), Flushed::Idle));
}

#[test]
fn changes_offered_before_the_head_and_put_are_written_wait_for_them() {
    let socket = FakeSocket::with_room(ROOMY);
    let head = Chunk::head(Bytes::from_static(b"HEAD|"));
    let slot = slot(&socket, vec![head, put("all")], 8);
    slot.offer(2, &Bytes::from_static(b"|two"));
    slot.offer(3, &Bytes::from_static(b"|three"));
    assert_eq!(
        socket.take(),
        "",
        "nothing is written before the task's flush"
    );
    assert!(matches!(slot.flush(), Flushed::Idle));
    assert_eq!(socket.take(), "HEAD|<all>|two|three");
}

#[test]
fn a_partly_written_change_is_completed_before_the_next() {
    let socket = FakeSocket::with_room(3);
    let slot = slot(&socket, Vec::new(), 8);
    slot.offer(2, &Bytes::from_static(b"[two]"));
    slot.offer(3, &Bytes::from_static(b"[three]"));
    assert_eq!(socket.take(), "[tw");
    assert!(matches!(slot.flush(), Flushed::Blocked));
    socket.open(ROOMY);
    assert!(matches!(slot.flush(), Flushed::Idle));
    assert_eq!(socket.take(), "o][three]");
    slot.offer(4, &Bytes::from_static(b"[four]"));
    assert_eq!(
        socket.take(),
        "[four]",
        "written directly again once nothing waits"
    );
}

#[test]
fn a_stream_past_its_capacity_gets_a_fresh_put_instead_of_the_backlog() {
    let socket = FakeSocket::with_room(0);
    let slot = slot(&socket, Vec::new(), 2);
    for sequence in 2..=5 {
        slot.offer(sequence, &Bytes::from_static(b"[change]"));
    }
    socket.open(ROOMY);
    assert!(matches!(slot.flush(), Flushed::NeedsFull));
    assert_eq!(socket.take(), "", "the backlog was dropped");
    // Changes offered before the put is read are covered by it.
    slot.offer(6, &Bytes::from_static(b"[six]"));
    assert!(slot.queue_full(|| Some((6, put("at six")))));
    slot.offer(6, &Bytes::from_static(b"[six again]"));
    slot.offer(7, &Bytes::from_static(b"[seven]"));
    assert!(matches!(slot.flush(), Flushed::Idle));
    assert_eq!(socket.take(), "<at six>[seven]");
}

#[test]
fn a_fresh_put_keeps_the_head_and_a_started_chunk() {
    let socket = FakeSocket::with_room(2);
    let slot = slot(&socket, vec![Chunk::head(Bytes::from_static(b"HEAD|"))], 1);
    assert!(matches!(slot.flush(), Flushed::Blocked));
    assert_eq!(socket.take(), "HE");
    slot.offer(2, &Bytes::from_static(b"[two]"));
    slot.offer(3, &Bytes::from_static(b"[three]"));
    assert!(slot.offer_full(Some(4)));
    socket.open(ROOMY);
    assert!(matches!(slot.flush(), Flushed::NeedsFull));
    assert_eq!(socket.take(), "AD|");
    assert!(slot.queue_full(|| Some((4, put("four")))));
    assert!(matches!(slot.flush(), Flushed::Idle));
    assert_eq!(socket.take(), "<four>");
    assert!(slot.offer_full(Some(4)), "a snapshot the put covered");
    assert!(matches!(slot.flush(), Flushed::Idle));
}

#[test]
fn heartbeats_are_queued_only_when_nothing_waits() {
    let socket = FakeSocket::with_room(0);
    let slot = slot(&socket, vec![piece("[queued]")], 8);
    slot.queue_heartbeat(Bytes::from_static(b"[beat]"));
    socket.open(ROOMY);
    assert!(matches!(slot.flush(), Flushed::Idle));
    slot.queue_heartbeat(Bytes::from_static(b"[beat]"));
    assert!(matches!(slot.flush(), Flushed::Idle));
    assert_eq!(socket.take(), "[queued][beat]");
}

#[test]
fn a_closed_slot_is_dropped_by_the_shard_and_says_whether_a_chunk_was_cut() {
    let socket = FakeSocket::with_room(2);
    let slot = slot(&socket, Vec::new(), 8);
    slot.offer(2, &Bytes::from_static(b"[two]"));
    assert!(!slot.close(), "a chunk was half written");
    assert!(!slot.offer(3, &Bytes::from_static(b"[three]")));
    assert!(!slot.offer_recheck());
    assert!(!slot.is_open());

    let socket = FakeSocket::with_room(ROOMY);
    let slot = self::slot(&socket, Vec::new(), 8);
    slot.offer(2, &Bytes::from_static(b"[two]"));
    assert!(slot.close());
}

#[test]
fn a_failed_write_ends_the_stream() {
    struct Broken;
    impl Outlet for Broken {
        fn try_write_vectored(&self, _: &[IoSlice<'_>]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }
    let slot = Slot::new(Arc::new(Broken), 1, Vec::new(), 8);
    slot.offer(2, &Bytes::from_static(b"[two]"));
    assert!(
        matches!(slot.flush(), Flushed::Failed(error) if error.kind() == io::ErrorKind::BrokenPipe)
    );
}

fn environment() -> EnvironmentId {
    EnvironmentId::new("e")
}

fn upsert(store: &Store, sequence: u64) {
    let item = RawItem {
        key: "f".into(),
        version: sequence,
        json: Bytes::from(format!(r#"{{"key":"f","version":{sequence}}}"#)),
    };
    let change = Change::Upsert {
        kind: ItemKind::Flag,
        item,
    };
    store.apply(&environment(), sequence, change).unwrap();
}

/// A store with one empty environment.
fn empty_environment() -> Store {
    let store = Store::new(8);
    let change = Change::Replace(EnvironmentContents::default());
    store.apply(&environment(), 1, change).unwrap();
    store
}

fn join(store: &Store, socket: &Arc<FakeSocket>) -> Arc<Slot> {
    store
        .join_fanout(&environment(), |data| {
            let outlet: Arc<dyn Outlet> = socket.clone();
            Arc::new(Slot::new(outlet, data.sequence(), Vec::new(), 8))
        })
        .expect("the environment exists")
}

/// Waits until `socket` has received `expected` bytes.
async fn received(socket: &FakeSocket, expected: usize) -> String {
    for _ in 0..500 {
        if socket.written.lock().unwrap().len() >= expected {
            return socket.take();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("only {:?} arrived", socket.take());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shards_write_each_change_to_every_stream_once_then_end_them_with_the_environment() {
    let store = empty_environment();
    let sockets: Vec<_> = (0..5).map(|_| FakeSocket::with_room(ROOMY)).collect();
    let slots: Vec<_> = sockets.iter().map(|socket| join(&store, socket)).collect();
    upsert(&store, 2);
    let expected = chunk(
        b"event: patch\ndata: {\"path\":\"/flags/f\",\"data\":{\"key\":\"f\",\"version\":2}}\n\n",
    );
    for socket in &sockets {
        let text = received(socket, expected.len()).await;
        assert_eq!(text.as_bytes(), &expected[..]);
    }
    // A stream that joins later starts from the data it joined with.
    let late = FakeSocket::with_room(ROOMY);
    let late_slot = join(&store, &late);
    upsert(&store, 3);
    for socket in sockets.iter().chain([&late]) {
        let text = received(socket, expected.len()).await;
        assert!(text.contains(r#""version":3"#), "{text}");
    }
    store.remove(&environment());
    for slot in slots.iter().chain([&late_slot]) {
        tokio::time::timeout(
            Duration::from_secs(5),
            std::future::poll_fn(|context| slot.poll_woken(context)),
        )
        .await
        .expect("the stream is told to end");
        assert!(matches!(slot.flush(), Flushed::Ended));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shards_let_go_of_closed_streams_without_waiting_for_a_change() {
    let store = empty_environment();
    let socket = FakeSocket::with_room(ROOMY);
    let slots: Vec<_> = (0..10).map(|_| join(&store, &socket)).collect();
    let kept = slots[0].clone();
    for slot in &slots[1..] {
        slot.close();
    }
    for slot in &slots[1..] {
        let mut waited = 0;
        while Arc::strong_count(slot) > 1 {
            assert!(waited < 2_500, "a shard still holds a closed stream");
            tokio::time::sleep(Duration::from_millis(2)).await;
            waited += 2;
        }
    }
    assert!(
        Arc::strong_count(&kept) > 2,
        "an open stream stays with its shard"
    );
    upsert(&store, 2);
    let text = received(&socket, 10).await;
    assert_eq!(text.matches("event: patch").count(), 1, "{text}");
}
