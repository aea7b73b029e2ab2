//! Checks that the Postgres and Redis servers named by the environment accept connections.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::test_env::required_var;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn postgres_from_database_url_accepts_connections() {
    assert_accepts_connections("DATABASE_URL", 5432);
}

#[test]
fn redis_from_vexil_test_redis_url_accepts_connections() {
    assert_accepts_connections("VEXIL_TEST_REDIS_URL", 6379);
}

#[test]
fn host_and_port_are_read_from_urls() {
    let cases = [
        (
            "postgres://postgres@127.0.0.1:5432/vexil_test",
            "127.0.0.1:5432",
        ),
        (
            "postgresql://user:secret@localhost/db?sslmode=disable",
            "localhost:5432",
        ),
        ("redis://127.0.0.1:6380", "127.0.0.1:6380"),
        ("redis://[::1]:6379/0", "[::1]:6379"),
    ];
    for (url, expected) in cases {
        assert_eq!(host_and_port(url, 5432), Some(expected.to_owned()), "{url}");
    }
    assert_eq!(host_and_port("127.0.0.1:5432", 5432), None);
}

/// Opens (and drops) a TCP connection to the server in the URL held by `var`.
#[track_caller]
fn assert_accepts_connections(var: &str, default_port: u16) {
    let url = required_var(var);
    let address = host_and_port(&url, default_port)
        .unwrap_or_else(|| panic!("{var} is not a URL with a host: {url}"));
    let socket_addresses: Vec<_> = address
        .to_socket_addrs()
        .unwrap_or_else(|error| panic!("cannot resolve {address} from {var}: {error}"))
        .collect();
    let connected = socket_addresses
        .iter()
        .any(|socket_address| TcpStream::connect_timeout(socket_address, CONNECT_TIMEOUT).is_ok());
    assert!(
        connected,
        "nothing accepts connections at {address} (from {var}) within {CONNECT_TIMEOUT:?}; \
         scripts/test-env starts the server when it is not running"
    );
}

/// Extracts `host:port` from `scheme://[user[:password]@]host[:port][/path][?query]`.
fn host_and_port(url: &str, default_port: u16) -> Option<String> {
    let (_scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host_port)| host_port);
    if host_port.is_empty() {
        return None;
    }
    // A port follows the last colon, unless that colon is inside an IPv6 literal.
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.contains(']'));
    Some(if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:{default_port}")
    })
}
