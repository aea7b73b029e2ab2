//! Accepting HTTP connections. A connection whose first request opens an SSE stream
//! (`GET /all`, `/eval/…`, `/meval/…`, `/ping/…`, `/mping`) is served by
//! `sse_connection.rs`, which keeps an idle stream down to its socket and its stream state;
//! every other connection goes to hyper's HTTP/1 server. Both call the same axum router,
//! so routing, middleware, CORS and metrics are the same either way.
//!
//! Why not hyper for streams too: hyper keeps an 8 KiB read buffer and an 8 KiB write
//! buffer per connection for as long as the connection lives (hyper-util's version
//! detection doubled the read buffer to 16 KiB), which made an idle stream cost about
//! 19 KiB. A stream needs neither once its request is read.

mod direct_stream;
mod head;
mod sse_connection;

pub(crate) use head::chunk_size_line;

use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Serves `app` on `listener` until `shutdown` fires, then stops accepting and waits for
/// every connection to finish: streams end on the same token, hyper's connections finish
/// their request in flight and close.
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((socket, _)) => {
                let task = connection(socket, app.clone(), shutdown.clone(), connections.clone());
                connections.spawn(task);
            }
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                // Usually the open-file limit: wait for connections to close, as hyper's
                // and axum's servers do, instead of spinning on the error.
                tracing::error!(error = %error, "cannot accept connections");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// Looks at the start of the first request (without consuming it) to choose who serves
/// the connection.
async fn connection(
    socket: TcpStream,
    app: Router,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    let mut start = [0u8; head::LONGEST_STREAM_PREFIX];
    let peeked = tokio::select! {
        _ = shutdown.cancelled() => return,
        peeked = socket.peek(&mut start) => peeked,
    };
    match peeked {
        Ok(length) if head::is_stream_request(&start[..length]) => {
            sse_connection::serve(socket, app, &shutdown, &connections).await;
        }
        // Boxed: hyper's connection state is large, and inline it would size every
        // connection's task, streams included (1.6 KiB of task per idle stream in massif).
        Ok(_) => Box::pin(with_hyper(socket, app, shutdown)).await,
        Err(error) => tracing::debug!(error = %error, "connection failed before its request"),
    }
}

async fn with_hyper(socket: TcpStream, app: Router, shutdown: CancellationToken) {
    let service = TowerToHyperService::new(app);
    let connection =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(socket), service);
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(error = %error, "HTTP connection ended with an error");
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
