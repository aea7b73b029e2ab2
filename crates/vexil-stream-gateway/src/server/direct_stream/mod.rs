//! An `/all` stream on the fan-out path (`fanout/`): the connection's task joins the
//! environment's fan-out with its socket, then only wakes for what the shard cannot do
//! for it: bytes the socket did not take at once, a fresh `put`, heartbeats, a
//! credential check, the client leaving, shutdown.
//!
//! Ends as a [`Connection`](crate::streaming::Connection) stream does: with the closing
//! chunk at shutdown, when the credential stops working or the environment is deleted;
//! without it when the client leaves or a write fails.

use std::future::{poll_fn, Future};
use std::io;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::fanout::{self, Chunk, Flushed, Handed, Slot};
use crate::store::EnvironmentData;
use crate::streaming::{self, DirectParts};

/// What woke an idle stream.
enum Woken {
    Shutdown,
    Expired,
    /// The shard has something for it.
    Slot,
    Writable,
    Heartbeat,
    /// The client sent something, or closed its side.
    Readable,
}

/// Why the stream ended.
enum End {
    /// Shutdown, a credential that stopped working, a deleted environment: the stream
    /// ends with its closing chunk, so SDKs reconnect (to another replica).
    Closed,
    /// The client left or a write failed.
    Failed(io::Error),
}

/// Serves the stream `handed` on `socket`, starting with the response `head`.
pub async fn serve(socket: TcpStream, head: Vec<u8>, handed: Handed) {
    let _ = socket.set_nodelay(true);
    let Handed { connection, open } = handed;
    let DirectParts {
        store,
        authenticated,
        mut heartbeat,
        mut expiry,
        mut shutdown,
    } = connection.into_direct_parts();
    let socket = Arc::new(socket);
    let environment_id = authenticated.environment_id.clone();
    let capacity = store.buffer_events();
    let joined = store.join_fanout(&environment_id, |data| {
        let outlet: Arc<dyn fanout::Outlet> = socket.clone();
        Arc::new(Slot::new(
            outlet,
            data.sequence(),
            [Chunk::head(Bytes::from(head)), put_chunk(data)],
            capacity,
        ))
    });
    let Some(slot) = joined else {
        tracing::debug!(environment_id = %environment_id, "environment gone before the stream started");
        return;
    };
    // A credential change published before the join reached no shard for this stream.
    let mut needs_recheck = true;
    let end = loop {
        if needs_recheck || slot.take_recheck() {
            needs_recheck = false;
            if !streaming::recheck(&store, &authenticated, &mut expiry) {
                tracing::debug!(environment_id = %environment_id, "credential revoked or expired, closing stream");
                break End::Closed;
            }
        }
        let is_blocked = match slot.flush() {
            Flushed::Idle => false,
            Flushed::Blocked => true,
            Flushed::NeedsFull => {
                let queued = slot.queue_full(|| {
                    let data = store.environment(&environment_id)?;
                    Some((data.sequence(), put_chunk(&data)))
                });
                if !queued {
                    break End::Closed;
                }
                continue;
            }
            Flushed::Ended => break End::Closed,
            Flushed::Failed(error) => break End::Failed(error),
        };
        // One hand-written poll rather than `select!`: an idle stream's task then holds
        // no futures besides its timers.
        let woken = poll_fn(|context| {
            if shutdown.as_mut().poll(context).is_ready() {
                return Poll::Ready(Ok(Woken::Shutdown));
            }
            if let Some(timer) = expiry.as_mut() {
                if timer.as_mut().poll(context).is_ready() {
                    return Poll::Ready(Ok(Woken::Expired));
                }
            }
            if slot.poll_woken(context).is_ready() {
                return Poll::Ready(Ok(Woken::Slot));
            }
            if is_blocked {
                if let Poll::Ready(ready) = socket.poll_write_ready(context) {
                    return Poll::Ready(ready.map(|()| Woken::Writable));
                }
            }
            if heartbeat.poll_tick(context).is_ready() {
                return Poll::Ready(Ok(Woken::Heartbeat));
            }
            socket.poll_read_ready(context).map_ok(|()| Woken::Readable)
        })
        .await;
        match woken {
            Ok(Woken::Shutdown) => break End::Closed,
            Ok(Woken::Expired) => needs_recheck = true,
            Ok(Woken::Slot | Woken::Writable) => {}
            Ok(Woken::Heartbeat) => slot.queue_heartbeat(Bytes::from_static(HEARTBEAT_CHUNK)),
            Ok(Woken::Readable) => {
                if let Err(error) = super::sse_connection::discard_input(&socket) {
                    break End::Failed(error);
                }
            }
            Err(error) => break End::Failed(error),
        }
    };
    let is_clean = slot.close();
    drop(slot);
    drop(open);
    match end {
        End::Closed if is_clean => close(socket).await,
        End::Closed => {}
        End::Failed(error) => tracing::debug!(error = %error, "stream connection closed"),
    }
}

/// `HEARTBEAT` as a chunk.
const HEARTBEAT_CHUNK: &[u8] = b"3\r\n:\n\n\r\n";

/// The environment's `put` as a chunk, sharing its serialised bytes.
fn put_chunk(data: &EnvironmentData) -> Chunk {
    let put = data.payload().put_frame().clone();
    let mut size_line = [0u8; 18];
    let length = super::head::chunk_size_line(put.len(), &mut size_line);
    Chunk::of([
        Bytes::copy_from_slice(&size_line[..length]),
        put,
        Bytes::from_static(b"\r\n"),
    ])
}

/// Writes the closing chunk and shuts the connection down (the slot no longer holds the
/// socket, unless a shard is in the middle of looking at it).
async fn close(socket: Arc<TcpStream>) {
    match Arc::try_unwrap(socket) {
        Ok(mut socket) => {
            if socket.write_all(b"0\r\n\r\n").await.is_ok() {
                let _ = socket.shutdown().await;
            }
        }
        Err(socket) => {
            let _ = socket.try_write(b"0\r\n\r\n");
        }
    }
}

#[cfg(test)]
mod tests;
