//! The HTTP/1 text `sse_connection.rs` reads and writes itself: which first requests open
//! a stream, the request head, the response head and the chunk-size line. No I/O.

use std::time::SystemTime;

use axum::body::Body;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{response, Request, StatusCode, Version};

/// The longest request-line start [`is_stream_request`] needs to see.
pub const LONGEST_STREAM_PREFIX: usize = 11;

/// The largest request head read for a stream; a larger one gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Headers accepted in a stream request (hyper's default limit).
const MAX_HEADERS: usize = 100;

/// Request-line starts of the SSE streams, and whether the path must end there (before
/// a space or a query) rather than continue.
const STREAM_REQUESTS: [(&[u8], bool); 5] = [
    (b"GET /all", true),
    (b"GET /mping", true),
    (b"GET /eval/", false),
    (b"GET /meval/", false),
    (b"GET /ping/", false),
];

/// Whether a request starting with `start` (as much of it as has arrived) asks for an
/// SSE stream. `REPORT` streams carry a body and are left to hyper, as is anything cut
/// too short to tell.
pub fn is_stream_request(start: &[u8]) -> bool {
    STREAM_REQUESTS.iter().any(|(prefix, is_whole_path)| {
        start.starts_with(prefix)
            && (!is_whole_path || matches!(start.get(prefix.len()), Some(b' ' | b'?')))
    })
}

/// The offset just past the blank line ending a request head, once it is complete.
pub fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|start| start + 4)
}

/// A complete request head (without body) as the router's request; the status to
/// answer with when it is not valid HTTP/1.
pub fn parse_request(head: &[u8]) -> Result<Request<Body>, StatusCode> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => {
            return Err(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        }
        Ok(httparse::Status::Partial) | Err(_) => return Err(StatusCode::BAD_REQUEST),
    }
    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let mut request = Request::builder()
        .method(parsed.method.unwrap_or_default())
        .uri(parsed.path.unwrap_or_default())
        .version(version)
        .body(Body::empty())
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let request_headers = request.headers_mut();
    request_headers.reserve(parsed.headers.len());
    for parsed_header in parsed.headers.iter() {
        let name = HeaderName::from_bytes(parsed_header.name.as_bytes())
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        let value =
            HeaderValue::from_bytes(parsed_header.value).map_err(|_| StatusCode::BAD_REQUEST)?;
        request_headers.append(name, value);
    }
    Ok(request)
}

/// How a response body is delimited on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`, then the connection closes.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 streams).
    Chunked,
    /// Bytes until the connection closes (HTTP/1.0 streams).
    UntilClose,
}

/// The status line and headers of `response`, with `Date` (as hyper adds it) and the
/// framing headers. Responses that are not chunked close the connection after them.
pub fn response_head(response: &response::Parts, framing: Framing, now: SystemTime) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(response.status.as_str().as_bytes());
    head.push(b' ');
    head.extend_from_slice(response.status.canonical_reason().unwrap_or("").as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &response.headers {
        if is_framing_header(name) {
            continue;
        }
        write_header(&mut head, name.as_str().as_bytes(), value.as_bytes());
    }
    if !response.headers.contains_key(header::DATE) {
        write_header(&mut head, b"date", httpdate::fmt_http_date(now).as_bytes());
    }
    match framing {
        Framing::Length(length) => {
            let mut digits = itoa::Buffer::new();
            write_header(
                &mut head,
                b"content-length",
                digits.format(length).as_bytes(),
            );
            write_header(&mut head, b"connection", b"close");
        }
        Framing::Chunked => write_header(&mut head, b"transfer-encoding", b"chunked"),
        Framing::UntilClose => write_header(&mut head, b"connection", b"close"),
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// `<size in hex>\r\n` into `line`; returns its length.
pub fn chunk_size_line(size: usize, line: &mut [u8; 18]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - size.leading_zeros()).div_ceil(4).max(1) as usize;
    for (index, slot) in line[..digits].iter_mut().enumerate() {
        let shift = 4 * (digits - 1 - index);
        *slot = HEX[(size >> shift) & 0xf];
    }
    line[digits] = b'\r';
    line[digits + 1] = b'\n';
    digits + 2
}

/// Headers this module writes itself from the [`Framing`].
fn is_framing_header(name: &HeaderName) -> bool {
    name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name == header::CONNECTION
}

fn write_header(head: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    head.extend_from_slice(name);
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use axum::http::Response;

    use super::*;

    #[test]
    fn only_get_requests_for_stream_paths_are_streams() {
        for stream in [
            "GET /all HTTP/1.1",
            "GET /all?filter=x HTTP/1.1",
            "GET /eval/env/eyJr",
            "GET /meval/eyJr",
            "GET /ping/env HTTP/1.1",
            "GET /mping HTTP/1.1",
        ] {
            assert!(is_stream_request(stream.as_bytes()), "{stream}");
        }
        for other in [
            "GET /allx HTTP/1.1",
            "GET /al",
            "GET /sdk/latest-all HTTP/1.1",
            "REPORT /eval/env HTTP/1.1",
            "OPTIONS /eval/env/eyJr HTTP/1.1",
            "POST /all HTTP/1.1",
            "",
        ] {
            assert!(!is_stream_request(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn a_request_head_becomes_a_router_request() {
        let head = b"GET /all?x=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: sdk-1\r\nAccept: a\r\nAccept: b\r\n\r\n";
        assert_eq!(head_end(head), Some(head.len()));
        assert_eq!(head_end(&head[..head.len() - 1]), None);
        let request = parse_request(head).unwrap();
        assert_eq!(request.method(), "GET");
        assert_eq!(request.uri(), "/all?x=1");
        assert_eq!(request.version(), Version::HTTP_11);
        assert_eq!(request.headers()["authorization"], "sdk-1");
        assert_eq!(request.headers().get_all("accept").iter().count(), 2);
        assert_eq!(
            parse_request(b"GET /all HTTP/1.1\r\nBad Header: x\r\n\r\n").unwrap_err(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn response_heads_say_how_the_body_ends() {
        let (parts, ()) = Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("content-type", "application/json")
            .header("content-length", "99")
            .body(())
            .unwrap()
            .into_parts();
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            String::from_utf8(response_head(&parts, Framing::Length(2), now)).unwrap(),
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\
             date: Tue, 14 Nov 2023 22:13:20 GMT\r\ncontent-length: 2\r\nconnection: close\r\n\r\n"
        );
        let (parts, ()) = Response::new(()).into_parts();
        assert!(
            String::from_utf8(response_head(&parts, Framing::Chunked, now))
                .unwrap()
                .ends_with("\r\ntransfer-encoding: chunked\r\n\r\n")
        );
    }

    #[test]
    fn chunk_size_lines_are_hex() {
        let mut line = [0u8; 18];
        for (size, expected) in [
            (0, "0\r\n"),
            (10, "a\r\n"),
            (56_454, "dc86\r\n"),
            (4096, "1000\r\n"),
        ] {
            let length = chunk_size_line(size, &mut line);
            assert_eq!(std::str::from_utf8(&line[..length]).unwrap(), expected);
        }
    }
}
