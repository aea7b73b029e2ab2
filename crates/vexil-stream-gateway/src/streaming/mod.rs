//! One SSE connection's lifecycle, independent of HTTP: the first frame, then a frame per
//! environment change, a heartbeat comment every interval, and the end of the stream at shutdown, when
//! the environment is deleted, or when the credential stops working.
//!
//! What the frames say is a [`Renderer`]'s business: [`ServerFrames`] forwards the
//! server-side `/all` frames the store serialised once for everyone; `client.rs` evaluates
//! every flag for one context (`/eval`, `/meval`) or just says `ping`.
//!
//! Memory stays bounded however slow the client: notices come from the environment's
//! broadcast channel (fixed capacity, shared by all its streams), and hyper only asks for
//! the next frame once the previous one is written. A stream that falls more than the
//! channel's capacity behind gets a fresh full frame of the current data instead of the
//! notices it missed.

mod client;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, Interval, MissedTickBehavior, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

pub use client::{ClientFrames, PingFrames};

use crate::store::{
    Authenticated, ChangedItem, EnvironmentData, Notice, Store, StreamEvent, HEARTBEAT,
};

/// Expiry timers further out than this are re-armed when they fire instead.
const LONGEST_TIMER: Duration = Duration::from_secs(24 * 3600);

/// What one kind of stream sends.
pub trait Renderer: Send + 'static {
    /// Everything the client needs, as of `data`: the first frame, and the frame after a
    /// snapshot or after the stream fell behind.
    fn full(&mut self, data: &Arc<EnvironmentData>) -> Bytes;

    /// What to send after one flag or segment changed, taking the environment to
    /// `sequence`; `frame` is the server-side `patch`/`delete` of the change.
    fn item_changed(
        &mut self,
        store: &Store,
        sequence: u64,
        changed: Option<&ChangedItem>,
        frame: &Bytes,
    ) -> Step;
}

/// A renderer's answer to a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this frame.
    Send(Bytes),
    /// Nothing this client can see changed.
    Skip,
    /// Send a fresh [`Renderer::full`] of the current data.
    Resync,
}

/// The server-side `/all` stream: the store's pre-serialised `put`, `patch` and `delete`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerFrames;

impl Renderer for ServerFrames {
    fn full(&mut self, data: &Arc<EnvironmentData>) -> Bytes {
        data.payload().put_frame().clone()
    }

    fn item_changed(&mut self, _: &Store, _: u64, _: Option<&ChangedItem>, frame: &Bytes) -> Step {
        Step::Send(frame.clone())
    }
}

/// An open stream.
pub struct Connection<R = ServerFrames> {
    store: Store,
    authenticated: Authenticated,
    events: broadcast::Receiver<StreamEvent>,
    renderer: R,
    /// The initial frame, until it is sent.
    first: Option<Bytes>,
    /// The sequence number of the state the client has been sent.
    sent_sequence: u64,
    heartbeat: Interval,
    expiry: Option<Pin<Box<Sleep>>>,
    /// Registered with the token once per stream: waiting on `cancelled()` anew for every
    /// frame would take the token's lock twice per frame for each of thousands of streams.
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Connection<ServerFrames> {
    /// An `/all` stream starting with a `put` of `data`; `events` must come from the same
    /// [`Store::subscribe`] call. `expires_at` is when the key stops working.
    pub fn new(
        store: Store,
        authenticated: Authenticated,
        data: &EnvironmentData,
        events: broadcast::Receiver<StreamEvent>,
        expires_at: Option<SystemTime>,
        heartbeat_interval: Duration,
        shutdown: CancellationToken,
    ) -> Connection<ServerFrames> {
        let opening = Opening {
            store,
            authenticated,
            events,
            expires_at,
            heartbeat_interval,
            shutdown,
        };
        let first = data.payload().put_frame().clone();
        Connection::start(ServerFrames, opening, first, data.sequence())
    }
}

/// What an `/all` stream served on the fan-out path (`server/direct_stream.rs`) keeps of
/// its [`Connection`]: everything but the broadcast receiver and the first frame, which
/// the fan-out replaces.
pub struct DirectParts {
    pub store: Store,
    pub authenticated: Authenticated,
    pub heartbeat: Interval,
    pub expiry: Option<Pin<Box<Sleep>>>,
    pub shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Connection<ServerFrames> {
    /// The parts the fan-out path needs.
    pub fn into_direct_parts(self) -> DirectParts {
        DirectParts {
            store: self.store,
            authenticated: self.authenticated,
            heartbeat: self.heartbeat,
            expiry: self.expiry,
            shutdown: self.shutdown,
        }
    }
}

/// What every stream starts from.
pub struct Opening {
    pub store: Store,
    pub authenticated: Authenticated,
    /// From the [`Store::subscribe`] call that returned the data of the first frame.
    pub events: broadcast::Receiver<StreamEvent>,
    /// When the credential stops working.
    pub expires_at: Option<SystemTime>,
    pub heartbeat_interval: Duration,
    pub shutdown: CancellationToken,
}

impl<R: Renderer> Connection<R> {
    /// A stream whose frames `renderer` writes, starting with its full frame of `data`
    /// (returned by the same [`Store::subscribe`] call as `opening.events`).
    pub fn with_renderer(
        mut renderer: R,
        opening: Opening,
        data: &Arc<EnvironmentData>,
    ) -> Connection<R> {
        let first = renderer.full(data);
        Connection::start(renderer, opening, first, data.sequence())
    }

    fn start(renderer: R, opening: Opening, first: Bytes, sequence: u64) -> Connection<R> {
        let interval = opening.heartbeat_interval;
        let mut heartbeat = tokio::time::interval_at(Instant::now() + interval, interval);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Connection {
            store: opening.store,
            authenticated: opening.authenticated,
            events: opening.events,
            renderer,
            first: Some(first),
            sent_sequence: sequence,
            heartbeat,
            expiry: opening.expires_at.map(timer),
            shutdown: Box::pin(opening.shutdown.cancelled_owned()),
        }
    }

    /// The frames, ending when the stream must close.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static {
        futures_util::stream::unfold(self, |mut connection| async move {
            let frame = connection.next_frame().await?;
            Some((Ok(frame), connection))
        })
    }

    /// The next bytes to send, or `None` to end the stream.
    pub async fn next_frame(&mut self) -> Option<Bytes> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.as_mut() => return None,
                _ = wait(&mut self.expiry) => {
                    if !self.recheck() {
                        tracing::debug!(environment_id = %self.authenticated.environment_id, "credential expired, closing stream");
                        return None;
                    }
                }
                received = self.events.recv() => match received {
                    Ok(StreamEvent { notice: Notice::CredentialsChanged, .. }) => {
                        if !self.recheck() {
                            tracing::debug!(environment_id = %self.authenticated.environment_id, "credential revoked, closing stream");
                            return None;
                        }
                    }
                    Ok(StreamEvent { sequence, .. }) if sequence <= self.sent_sequence => {}
                    Ok(StreamEvent { sequence, notice: Notice::Frame(frame), changed }) => {
                        match self.renderer.item_changed(&self.store, sequence, changed.as_ref(), &frame) {
                            Step::Send(frame) => {
                                // The heartbeat keeps its own beat: re-arming its timer
                                // for every frame of every stream costs more than an
                                // occasional comment between frames.
                                self.sent_sequence = sequence;
                                return Some(frame);
                            }
                            Step::Skip => self.sent_sequence = sequence,
                            Step::Resync => return self.fresh_full(),
                        }
                    }
                    Ok(StreamEvent { notice: Notice::Replaced | Notice::None, .. }) => {
                        return self.fresh_full();
                    }
                    Err(RecvError::Lagged(skipped)) => {
                        tracing::debug!(environment_id = %self.authenticated.environment_id, skipped,
                            "stream fell behind, sending everything afresh");
                        return self.fresh_full();
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = self.heartbeat.tick() => return Some(Bytes::from_static(HEARTBEAT)),
            }
        }
    }

    /// A full frame of the environment's current data; `None` when it is gone.
    fn fresh_full(&mut self) -> Option<Bytes> {
        // Notices queued so far are all covered by the new frame: drop them by moving to
        // the channel's tail *before* reading the data, so none sent after is missed.
        self.events = self.events.resubscribe();
        let data = self.store.environment(&self.authenticated.environment_id)?;
        self.sent_sequence = data.sequence();
        self.heartbeat.reset();
        Some(self.renderer.full(&data))
    }

    /// Whether the credential still works; re-arms the expiry timer when it does.
    fn recheck(&mut self) -> bool {
        recheck(&self.store, &self.authenticated, &mut self.expiry)
    }
}

/// Whether a stream's credential still works; re-arms `expiry` when it does. Every kind
/// of stream checks through here (`Connection`, and `server/direct_stream/` for `/all`).
pub fn recheck(
    store: &Store,
    authenticated: &Authenticated,
    expiry: &mut Option<Pin<Box<Sleep>>>,
) -> bool {
    match store.recheck(authenticated, SystemTime::now()) {
        Some(expires_at) => {
            *expiry = expires_at.map(timer);
            true
        }
        None => false,
    }
}

fn timer(expires_at: SystemTime) -> Pin<Box<Sleep>> {
    let remaining = expires_at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
        .min(LONGEST_TIMER);
    Box::pin(tokio::time::sleep(remaining))
}

async fn wait(expiry: &mut Option<Pin<Box<Sleep>>>) {
    match expiry {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::store::{Change, CredentialKind, EnvironmentId, ItemKind, RawItem};

    const KEY: &str = "sdk-stream-test";

    fn environment() -> EnvironmentId {
        EnvironmentId::new("e")
    }

    fn flag(version: u64) -> RawItem {
        RawItem {
            key: "f".into(),
            version,
            json: Bytes::from(format!(r#"{{"key":"f","version":{version}}}"#)),
        }
    }

    fn credential(is_revoked: bool) -> Change {
        Change::test_server_key(KEY, is_revoked)
    }

    fn upsert(store: &Store, sequence: u64) {
        let change = Change::Upsert {
            kind: ItemKind::Flag,
            item: flag(sequence),
        };
        store.apply(&environment(), sequence, change).unwrap();
    }

    fn open(store: &Store, shutdown: &CancellationToken) -> Connection {
        let authenticated = store
            .authenticate(KEY, CredentialKind::ServerSdkKey, SystemTime::now())
            .unwrap();
        let (data, events) = store.subscribe(&environment()).unwrap();
        Connection::new(
            store.clone(),
            authenticated,
            &data,
            events,
            None,
            Duration::from_secs(60),
            shutdown.clone(),
        )
    }

    fn loaded_store(buffer_events: usize) -> Store {
        Store::test_with_flag(buffer_events, &environment(), flag(1), KEY)
    }

    fn text(frame: Option<Bytes>) -> String {
        String::from_utf8(frame.expect("a frame").to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_stream_that_falls_behind_gets_a_fresh_put_instead_of_the_backlog() {
        let store = loaded_store(2);
        let shutdown = CancellationToken::new();
        let mut connection = open(&store, &shutdown);
        assert!(text(connection.next_frame().await).starts_with("event: put\n"));
        for sequence in 3..=8 {
            upsert(&store, sequence);
        }
        let frame = text(connection.next_frame().await);
        assert!(frame.starts_with("event: put\n"), "{frame}");
        assert!(frame.contains(r#""version":8"#), "{frame}");
        // The notices already covered by that put are skipped; the next change is a patch.
        upsert(&store, 9);
        let frame = text(connection.next_frame().await);
        assert!(
            frame.starts_with("event: patch\ndata: {\"path\":\"/flags/f\""),
            "{frame}"
        );
        assert!(frame.contains(r#""version":9"#), "{frame}");
    }

    #[tokio::test]
    async fn revocation_and_shutdown_end_the_stream() {
        let store = loaded_store(8);
        let shutdown = CancellationToken::new();
        let mut connection = open(&store, &shutdown);
        connection.next_frame().await.unwrap();
        store.apply(&environment(), 3, credential(true)).unwrap();
        assert!(connection.next_frame().await.is_none());

        let store = loaded_store(8);
        let mut connection = open(&store, &shutdown);
        connection.next_frame().await.unwrap();
        shutdown.cancel();
        assert!(connection.next_frame().await.is_none());
    }
}
