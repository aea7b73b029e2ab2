//! Handing an `/all` stream from the router to the connection that serves it.
//!
//! The route answers with a response whose body reads the [`Connection`] (so the stream
//! works whoever serves it) and with a [`Handoff`] extension holding the same
//! connection. `server/sse_connection.rs` takes it from the extension and serves the
//! stream on the fan-out path; the body then finds nothing and is dropped unread.

use std::sync::{Arc, Mutex};

use crate::metrics::OpenStream;
use crate::streaming::{Connection, ServerFrames};

/// What the route prepared: the stream and the gauge counting it while it is open.
pub struct Handed {
    pub connection: Connection<ServerFrames>,
    pub open: OpenStream,
}

/// The stream, until the body or the connection writer takes it.
#[derive(Clone)]
pub struct Handoff(Arc<Mutex<Option<Handed>>>);

impl Handoff {
    pub fn new(handed: Handed) -> Handoff {
        Handoff(Arc::new(Mutex::new(Some(handed))))
    }

    /// The stream, to the first caller only.
    pub fn take(&self) -> Option<Handed> {
        super::lock(&self.0).take()
    }
}
