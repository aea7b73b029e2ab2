//! A minimal `/all` client for holding thousands of streams from one process: raw tokio
//! TCP, an HTTP/1.1 request, the chunked response body decoded by hand and split into SSE
//! messages. No HTTP client library, so a connection costs a socket and two small buffers.
//!
//! The clients share the machine's 2 cores with the gateway during the propagation bench,
//! so an event costs one read and a scan of its bytes: events are borrowed from the
//! buffer, never copied, and lines are found with a byte search rather than by comparing
//! every window.

use std::net::SocketAddr;

use anyhow::{bail, ensure, Context as _};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a message of the stream was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Put,
    Patch,
    Delete,
    Other,
}

/// One SSE event: its name and its `data:` line, borrowed from the connection's buffer
/// until the next call.
#[derive(Debug)]
pub struct Event<'a> {
    pub name: EventName,
    pub data: &'a [u8],
}

/// An open `GET /all` response.
pub struct SseConnection {
    stream: TcpStream,
    /// Bytes read from the socket and not yet decoded from chunked encoding.
    raw: Vec<u8>,
    /// Decoded body bytes not yet split into messages.
    body: Vec<u8>,
    /// Bytes at the start of `body` that belong to the event last returned.
    consumed: usize,
}

impl SseConnection {
    /// Connects, sends `GET /all` with the SDK key and reads the response head; fails
    /// unless it is `200` with a chunked body.
    pub async fn open(address: SocketAddr, sdk_key: &str) -> anyhow::Result<SseConnection> {
        let mut stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET /all HTTP/1.1\r\nHost: {address}\r\nAuthorization: {sdk_key}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut connection = SseConnection {
            stream,
            raw: Vec::with_capacity(4096),
            body: Vec::new(),
            consumed: 0,
        };
        let head_end = loop {
            if let Some(end) = find(&connection.raw, b"\r\n\r\n") {
                break end;
            }
            ensure!(
                connection.fill().await? > 0,
                "the gateway closed the connection before the response head"
            );
        };
        let head = String::from_utf8_lossy(&connection.raw[..head_end]).to_ascii_lowercase();
        ensure!(
            head.starts_with("http/1.1 200"),
            "unexpected response: {head}"
        );
        ensure!(
            head.contains("transfer-encoding: chunked"),
            "the stream is not chunked: {head}"
        );
        connection.raw.drain(..head_end + 4);
        Ok(connection)
    }

    /// The next event, skipping comments (heartbeats); `None` once the server ends the
    /// stream.
    pub async fn next_event(&mut self) -> anyhow::Result<Option<Event<'_>>> {
        self.body.drain(..self.consumed);
        self.consumed = 0;
        loop {
            if let Some(end) = find_blank_line(&self.body) {
                if self.body.starts_with(b":") {
                    self.body.drain(..end + 2);
                    continue;
                }
                self.consumed = end + 2;
                return parse(&self.body[..end]).map(Some);
            }
            match self.decode_chunk()? {
                Chunk::Data => {}
                Chunk::End => return Ok(None),
                Chunk::Incomplete => {
                    if self.fill().await? == 0 {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Gives back buffer space a large message (the first `put`) needed.
    pub fn shrink(&mut self) {
        self.body.drain(..self.consumed);
        self.consumed = 0;
        self.raw.shrink_to(1024);
        self.body.shrink_to(1024);
    }

    async fn fill(&mut self) -> anyhow::Result<usize> {
        self.raw.reserve(4096);
        Ok(self.stream.read_buf(&mut self.raw).await?)
    }

    /// Moves every complete chunk from `raw` to `body`; `Incomplete` when none was.
    fn decode_chunk(&mut self) -> anyhow::Result<Chunk> {
        let mut start = 0;
        let outcome = loop {
            let raw = &self.raw[start..];
            let Some(line_end) = find(raw, b"\r\n") else {
                break Chunk::Incomplete;
            };
            let size_text = std::str::from_utf8(&raw[..line_end])?;
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .with_context(|| format!("bad chunk size line {size_text:?}"))?;
            if size == 0 {
                break Chunk::End;
            }
            let data_start = line_end + 2;
            if raw.len() < data_start + size + 2 {
                break Chunk::Incomplete;
            }
            self.body
                .extend_from_slice(&raw[data_start..data_start + size]);
            start += data_start + size + 2;
        };
        self.raw.drain(..start);
        Ok(match outcome {
            Chunk::Incomplete if start > 0 => Chunk::Data,
            outcome => outcome,
        })
    }
}

enum Chunk {
    Data,
    End,
    Incomplete,
}

fn parse(message: &[u8]) -> anyhow::Result<Event<'_>> {
    let mut name = EventName::Other;
    let mut data: &[u8] = &[];
    for line in message.split(|byte| *byte == b'\n') {
        if let Some(value) = line.strip_prefix(b"event: ") {
            name = match value {
                b"put" => EventName::Put,
                b"patch" => EventName::Patch,
                b"delete" => EventName::Delete,
                _ => EventName::Other,
            };
        } else if let Some(value) = line.strip_prefix(b"data: ") {
            data = value;
        }
    }
    if data.is_empty() {
        bail!(
            "an SSE event without data: {:?}",
            String::from_utf8_lossy(message)
        );
    }
    Ok(Event { name, data })
}

/// Where `\n\n` (the end of an SSE message) starts.
fn find_blank_line(body: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(offset) = body[from..].iter().position(|byte| *byte == b'\n') {
        let at = from + offset;
        if body.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(offset) = haystack[from..].iter().position(|byte| *byte == first) {
        let at = from + offset;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}
