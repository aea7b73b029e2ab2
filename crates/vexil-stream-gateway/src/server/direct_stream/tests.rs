//! The fan-out path over real sockets: a client that reads nothing while changes pile up
//! is resynchronised with a fresh `put` and ends up with the latest data, and shutdown
//! ends the stream with its closing chunk.

use std::time::{Duration, SystemTime};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::metrics::GatewayMetrics;
use crate::store::{Change, CredentialKind, EnvironmentId, ItemKind, RawItem, Store};
use crate::streaming::Connection;

const KEY: &str = "sdk-direct-test";

#[test]
fn the_heartbeat_chunk_is_the_heartbeat_framed() {
    assert_eq!(HEARTBEAT_CHUNK, &fanout::chunk(crate::store::HEARTBEAT)[..]);
}

fn environment() -> EnvironmentId {
    EnvironmentId::new("e")
}

/// Flag `f` at `version`, padded so a few changes fill a small socket buffer.
fn flag(version: u64) -> RawItem {
    let padding = "x".repeat(8_000);
    RawItem {
        key: "f".into(),
        version,
        json: Bytes::from(format!(
            r#"{{"key":"f","version":{version},"padding":"{padding}"}}"#
        )),
    }
}

fn store(buffer_events: usize) -> Store {
    Store::test_with_flag(buffer_events, &environment(), flag(1), KEY)
}

/// A connected pair: the gateway's side with a small send buffer, the client's with a
/// small receive buffer.
async fn sockets() -> (TcpStream, TcpStream) {
    let listener = TcpSocket::new_v4().unwrap();
    listener.set_recv_buffer_size(4096).unwrap();
    listener.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener: TcpListener = listener.listen(1).unwrap();
    let gateway = TcpSocket::new_v4().unwrap();
    gateway.set_send_buffer_size(4096).unwrap();
    let (gateway, client) = tokio::join!(
        gateway.connect(listener.local_addr().unwrap()),
        listener.accept()
    );
    (gateway.unwrap(), client.unwrap().0)
}

/// What the client read: the SSE events of a chunked body after `HEAD|`, and whether
/// the closing chunk came.
struct Received {
    events: Vec<(String, String)>,
    is_closed: bool,
}

fn decode(bytes: &[u8]) -> Received {
    let mut rest = bytes.strip_prefix(b"HEAD|").expect("the head comes first");
    let mut body = Vec::new();
    let mut is_closed = false;
    while let Some(line_end) = rest.windows(2).position(|window| window == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16)
            .expect("a chunk size line");
        if size == 0 {
            is_closed = true;
            break;
        }
        let data = &rest[line_end + 2..];
        if data.len() < size + 2 {
            break; // The rest has not arrived yet.
        }
        body.extend_from_slice(&data[..size]);
        assert_eq!(&data[size..size + 2], b"\r\n");
        rest = &data[size + 2..];
    }
    let text = String::from_utf8(body).unwrap();
    let events = text
        .split("\n\n")
        .filter(|message| !message.is_empty() && !message.starts_with(':'))
        .map(|message| {
            let (name, data) = message.split_once('\n').unwrap();
            (
                name.trim_start_matches("event: ").to_owned(),
                data.trim_start_matches("data: ").to_owned(),
            )
        })
        .collect();
    Received { events, is_closed }
}

fn version_of(data: &str) -> u64 {
    let at = data.rfind(r#""version":"#).unwrap() + r#""version":"#.len();
    data[at..]
        .split(|character: char| !character.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_resynchronised_and_shutdown_closes_the_stream() {
    let store = store(4);
    let shutdown = CancellationToken::new();
    let authenticated = store
        .authenticate(KEY, CredentialKind::ServerSdkKey, SystemTime::now())
        .unwrap();
    let (data, events) = store.subscribe(&environment()).unwrap();
    let connection = Connection::new(
        store.clone(),
        authenticated,
        &data,
        events,
        None,
        Duration::from_secs(60),
        shutdown.clone(),
    );
    let handed = Handed {
        connection,
        open: GatewayMetrics::new().stream_opened(CredentialKind::ServerSdkKey),
    };
    let (gateway, mut client) = sockets().await;
    let served = tokio::spawn(serve(gateway, b"HEAD|".to_vec(), handed));

    // 60 changes of about 8 KB while the client reads nothing: far more than the socket
    // buffers and the 4 queued chunks hold.
    for version in 2..=61 {
        let change = Change::Upsert {
            kind: ItemKind::Flag,
            item: flag(version),
        };
        store.apply(&environment(), version + 1, change).unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut bytes = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let latest = loop {
        let read = tokio::time::timeout(Duration::from_secs(10), client.read(&mut buffer))
            .await
            .expect("the stream keeps sending")
            .unwrap();
        assert!(read > 0, "the stream ended early");
        bytes.extend_from_slice(&buffer[..read]);
        let received = decode(&bytes);
        if let Some((_, data)) = received.events.last() {
            if version_of(data) == 61 {
                break received;
            }
        }
    };
    let names: Vec<&str> = latest
        .events
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names[0], "put", "{names:?}");
    assert!(
        names[1..].contains(&"put"),
        "the lagging client was sent a fresh put: {names:?}"
    );
    assert!(
        latest.events.len() < 40,
        "the backlog was dropped, not sent: {} events",
        latest.events.len()
    );
    let versions: Vec<u64> = latest
        .events
        .iter()
        .map(|(_, data)| version_of(data))
        .collect();
    assert!(
        versions.windows(2).all(|pair| pair[0] < pair[1]),
        "never older data after newer: {versions:?}"
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("the stream ends at shutdown")
        .unwrap();
    client.read_to_end(&mut bytes).await.unwrap();
    assert!(
        decode(&bytes).is_closed,
        "the closing chunk ends the stream"
    );
}
