//! What travels through a queue: a record as appended, and as read back with its place in
//! the log.

use std::sync::Arc;

use bytes::Bytes;

/// One record: the key chooses its partition (records with equal keys stay in order), the
/// value and headers are opaque bytes, the timestamp is the producer's (milliseconds since
/// the Unix epoch), kept as given.
///
/// The headers are shared, not owned: records of one request usually carry the same ones
/// (payload id, trace context), and cloning an `Arc` per record costs a reference count
/// where a list of its own would cost an allocation and a copy of every name and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: Bytes,
    pub value: Bytes,
    pub headers: Arc<[Header]>,
    pub timestamp_ms: i64,
}

/// A record header, such as `traceparent`. Names repeat as the producer gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Bytes,
}

/// Where a record sits: offsets are dense per partition, starting at 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub partition: u32,
    pub offset: u64,
}

/// A record read back from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub position: Position,
    pub record: Record,
}

impl Record {
    /// A record without headers.
    pub fn new(key: impl Into<Bytes>, value: impl Into<Bytes>, timestamp_ms: i64) -> Record {
        Record {
            key: key.into(),
            value: value.into(),
            headers: Arc::new([]),
            timestamp_ms,
        }
    }

    /// Adds a header after the existing ones. Copies the header list, so it suits building
    /// one record (in tests); records that share headers share one `Arc<[Header]>`.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Bytes>) -> Record {
        let mut headers = self.headers.to_vec();
        headers.push(Header {
            name: name.into(),
            value: value.into(),
        });
        self.headers = headers.into();
        self
    }
}
