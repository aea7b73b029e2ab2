//! A connection whose first request opens an SSE stream: read its head, ask the router,
//! write the response head, then each frame of the body as one chunk (one `writev`),
//! until the body ends, the client leaves, or the write fails. The connection closes
//! afterwards, as it does after a refused request (401, 503, …). An `/all` stream over
//! HTTP/1.1 (its response carries a `fanout::Handoff`) is served by `direct_stream/`
//! instead, on the fan-out path.
//!
//! While the stream is idle, the task holds only the socket and the response body (the
//! stream's own state): no read or write buffer. The client leaving is noticed from the
//! socket's readiness and a read into a few bytes on the stack.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use axum::body::{Body, HttpBody};
use axum::http::{Response, StatusCode};
use axum::Router;
use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::head::{self, Framing};
use crate::fanout::Handoff;

/// How long a client may take to send the rest of its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves the connection's one request (its start was recognised as a stream request).
///
/// An `/all` stream over HTTP/1.1 continues in a task of its own (`direct_stream.rs`,
/// tracked by `connections` like the connection's), so what it keeps for its lifetime is
/// sized for it alone rather than for every state this task passes through.
pub async fn serve(
    mut socket: TcpStream,
    app: Router,
    shutdown: &CancellationToken,
    connections: &TaskTracker,
) {
    let head = tokio::select! {
        _ = shutdown.cancelled() => return,
        head = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut socket)) => head,
    };
    let request = match head {
        Ok(Ok(head)) => head::parse_request(&head),
        Ok(Err(ReadHeadError::TooLarge)) => Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Ok(Err(ReadHeadError::Io(error))) => {
            tracing::debug!(error = %error, "stream connection failed before its request");
            return;
        }
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    };
    let request = match request {
        Ok(request) => request,
        Err(status) => {
            let response = Response::builder()
                .status(status)
                .body(Body::empty())
                .expect("a status and an empty body make a response");
            return respond(socket, response, true, connections).await;
        }
    };
    let is_http_10 = request.version() == axum::http::Version::HTTP_10;
    // Boxed, so the router's (large) future does not stay part of the connection's state
    // for the life of the stream.
    let response = match Box::pin(app.oneshot(request)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    respond(socket, response, is_http_10, connections).await;
}

/// Writes `response` and closes the connection.
async fn respond(
    mut socket: TcpStream,
    response: Response<Body>,
    is_http_10: bool,
    connections: &TaskTracker,
) {
    let (parts, mut body) = response.into_parts();
    let framing = match body.size_hint().exact() {
        Some(length) => Framing::Length(length),
        None if is_http_10 => Framing::UntilClose,
        None => Framing::Chunked,
    };
    let head = head::response_head(&parts, framing, SystemTime::now());
    // An `/all` stream goes on the fan-out path when it is chunked (HTTP/1.1).
    let handed = match framing {
        Framing::Chunked => parts.extensions.get::<Handoff>().and_then(Handoff::take),
        _ => None,
    };
    drop(parts);
    if let Some(handed) = handed {
        drop(body);
        connections.spawn(super::direct_stream::serve(socket, head, handed));
        return;
    }
    let written = match framing {
        Framing::Length(_) => match body.collect().await {
            Ok(collected) => {
                let mut whole = Bytes::from(head).chain(collected.to_bytes());
                socket.write_all_buf(&mut whole).await
            }
            Err(error) => {
                tracing::debug!(error = %error, "response body failed");
                return;
            }
        },
        Framing::Chunked | Framing::UntilClose => {
            // Each frame is a complete SSE message: send it at once.
            let _ = socket.set_nodelay(true);
            match socket.write_all(&head).await {
                Ok(()) => {
                    drop(head);
                    stream(&mut socket, &mut body, framing == Framing::Chunked).await
                }
                Err(error) => Err(error),
            }
        }
    };
    match written {
        Ok(()) => {
            let _ = socket.shutdown().await;
        }
        Err(error) => tracing::debug!(error = %error, "stream connection closed"),
    }
}

/// What woke a streaming connection.
enum Wake {
    /// The body's next frame: data, or `None` for trailers (which are not sent).
    Frame(Option<Bytes>),
    End,
    Failed(axum::Error),
    /// The client sent something, or closed its side.
    Readable,
}

/// Writes the body's frames as they come, each as one chunk; `Ok` once the body ended
/// (the terminating chunk written), `Err` when the client left or a write failed.
async fn stream(socket: &mut TcpStream, body: &mut Body, is_chunked: bool) -> io::Result<()> {
    loop {
        let wake = poll_fn(|context| {
            if let Poll::Ready(frame) = Pin::new(&mut *body).poll_frame(context) {
                return Poll::Ready(Ok(match frame {
                    Some(Ok(frame)) => Wake::Frame(frame.into_data().ok()),
                    Some(Err(error)) => Wake::Failed(error),
                    None => Wake::End,
                }));
            }
            // Registers for readability without a buffer: most streams never read again.
            socket.poll_read_ready(context).map_ok(|()| Wake::Readable)
        })
        .await?;
        match wake {
            Wake::Frame(Some(data)) if !data.is_empty() => {
                write_frame(socket, &data, is_chunked).await?;
            }
            Wake::Frame(_) => {}
            Wake::Failed(error) => {
                // Ends the connection without the last chunk, so the client sees an error.
                return Err(io::Error::other(error));
            }
            Wake::End => {
                if is_chunked {
                    socket.write_all(b"0\r\n\r\n").await?;
                }
                return Ok(());
            }
            Wake::Readable => discard_input(socket)?,
        }
    }
}

/// Reads and drops what the client sent: nothing is expected once a stream started. An
/// error once the client closed its side, which ends the stream.
pub(super) fn discard_input(socket: &TcpStream) -> io::Result<()> {
    let mut discarded = [0u8; 64];
    match socket.try_read(&mut discarded) {
        Ok(0) => Err(io::ErrorKind::UnexpectedEof.into()),
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(error) => Err(error),
    }
}

/// One frame in one vectored write: chunk-size line, the frame, `\r\n`.
async fn write_frame(socket: &mut TcpStream, data: &Bytes, is_chunked: bool) -> io::Result<()> {
    if !is_chunked {
        return socket.write_all(data).await;
    }
    let mut size_line = [0u8; 18];
    let length = head::chunk_size_line(data.len(), &mut size_line);
    let mut chunk = Buf::chain(&size_line[..length], data.as_ref()).chain(&b"\r\n"[..]);
    socket.write_all_buf(&mut chunk).await
}

#[derive(Debug)]
enum ReadHeadError {
    TooLarge,
    Io(io::Error),
}

/// Reads up to the end of the request head. A stream request has no body; bytes after
/// the head (a pipelined request) are dropped with the connection.
async fn read_head(socket: &mut TcpStream) -> Result<Vec<u8>, ReadHeadError> {
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let scanned_from = buffer.len().saturating_sub(3);
        let read = socket
            .read_buf(&mut buffer)
            .await
            .map_err(ReadHeadError::Io)?;
        if read == 0 {
            return Err(ReadHeadError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        if let Some(end) = head::head_end(&buffer[scanned_from..]) {
            buffer.truncate(scanned_from + end);
            return Ok(buffer);
        }
        if buffer.len() > head::MAX_HEAD_BYTES {
            return Err(ReadHeadError::TooLarge);
        }
    }
}
