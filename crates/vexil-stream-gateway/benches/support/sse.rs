//! A minimal `/all` client for holding thousands of streams from one process: raw tokio
//! TCP, an HTTP/1.1 request, the chunked response body decoded by hand and split into SSE
//! messages. No HTTP client library, so a connection costs a socket and two small buffers.

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

/// One SSE event: its name and its `data:` line.
#[derive(Debug)]
pub struct Event {
    pub name: EventName,
    pub data: Vec<u8>,
}

/// An open `GET /all` response.
pub struct SseConnection {
    stream: TcpStream,
    /// Bytes read from the socket and not yet decoded from chunked encoding.
    raw: Vec<u8>,
    /// Decoded body bytes not yet split into messages.
    body: Vec<u8>,
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
    pub async fn next_event(&mut self) -> anyhow::Result<Option<Event>> {
        loop {
            if let Some(end) = find(&self.body, b"\n\n") {
                let event = if self.body.starts_with(b":") {
                    None
                } else {
                    Some(parse(&self.body[..end])?)
                };
                self.body.drain(..end + 2);
                match event {
                    Some(event) => return Ok(Some(event)),
                    None => continue,
                }
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
        self.raw.shrink_to(1024);
        self.body.shrink_to(1024);
    }

    async fn fill(&mut self) -> anyhow::Result<usize> {
        self.raw.reserve(4096);
        Ok(self.stream.read_buf(&mut self.raw).await?)
    }

    /// Moves one complete chunk from `raw` to `body`.
    fn decode_chunk(&mut self) -> anyhow::Result<Chunk> {
        let Some(line_end) = find(&self.raw, b"\r\n") else {
            return Ok(Chunk::Incomplete);
        };
        let size_text = std::str::from_utf8(&self.raw[..line_end])?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("bad chunk size line {size_text:?}"))?;
        if size == 0 {
            return Ok(Chunk::End);
        }
        let data_start = line_end + 2;
        if self.raw.len() < data_start + size + 2 {
            return Ok(Chunk::Incomplete);
        }
        self.body
            .extend_from_slice(&self.raw[data_start..data_start + size]);
        self.raw.drain(..data_start + size + 2);
        Ok(Chunk::Data)
    }
}

enum Chunk {
    Data,
    End,
    Incomplete,
}

fn parse(message: &[u8]) -> anyhow::Result<Event> {
    let mut name = EventName::Other;
    let mut data = Vec::new();
    for line in message.split(|byte| *byte == b'\n') {
        if let Some(value) = line.strip_prefix(b"event: ") {
            name = match value {
                b"put" => EventName::Put,
                b"patch" => EventName::Patch,
                b"delete" => EventName::Delete,
                _ => EventName::Other,
            };
        } else if let Some(value) = line.strip_prefix(b"data: ") {
            data = value.to_vec();
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
