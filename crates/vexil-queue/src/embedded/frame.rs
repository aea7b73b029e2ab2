//! One record as stored in a segment file: a 16-byte header (payload length, CRC-32 of the
//! payload, offset; little-endian) and the payload (timestamp, key, value, headers).
//!
//! The offset sits outside the checksum so that appenders encode and checksum their
//! records in their own tasks and the single writer only stamps the offset; a damaged
//! offset is caught anyway, because offsets must follow each other one by one.

use std::io::{self, BufRead, Seek};

use bytes::Bytes;

use crate::{Header, Record};

/// Bytes before each payload: length (u32), CRC-32 (u32), offset (u64).
pub(crate) const HEADER_BYTES: usize = 16;

/// The payload bytes `record` takes, before any limit is checked.
pub(crate) fn payload_len(record: &Record) -> usize {
    8 + 4
        + record.key.len()
        + 4
        + record.value.len()
        + 4
        + record
            .headers
            .iter()
            .map(|header| 4 + header.name.len() + 4 + header.value.len())
            .sum::<usize>()
}

/// Appends `record`'s frame to `out` with offset 0, to be stamped by [`set_offset`].
/// `payload_len` is [`payload_len`]`(record)`, already checked to fit in a `u32`.
pub(crate) fn encode(record: &Record, payload_len: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.reserve(HEADER_BYTES + payload_len);
    out.extend_from_slice(&(payload_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 12]);
    out.extend_from_slice(&record.timestamp_ms.to_le_bytes());
    put_bytes(out, &record.key);
    put_bytes(out, &record.value);
    out.extend_from_slice(&(record.headers.len() as u32).to_le_bytes());
    for header in record.headers.iter() {
        put_bytes(out, header.name.as_bytes());
        put_bytes(out, &header.value);
    }
    let crc = crc32fast::hash(&out[start + HEADER_BYTES..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Stamps the offset into the frame starting at `frame[0]`.
pub(crate) fn set_offset(frame: &mut [u8], offset: u64) {
    frame[8..16].copy_from_slice(&offset.to_le_bytes());
}

/// What the next bytes of a segment hold.
pub(crate) enum Next {
    /// A whole frame whose checksum matches (its payload not yet decoded, or skipped).
    Frame {
        offset: u64,
        payload: Option<Bytes>,
        frame_len: u64,
    },
    /// Exactly the end of the data.
    End,
    /// Bytes that are not a whole, intact frame: a torn or corrupt write.
    Damaged(&'static str),
}

/// Reads the frame at the reader's position, `remaining` bytes before the end of the
/// file's data. With `skip`, the payload is passed over unread and unchecked.
pub(crate) fn read_frame<R: BufRead + Seek>(
    reader: &mut R,
    remaining: u64,
    skip: bool,
) -> io::Result<Next> {
    if remaining == 0 {
        return Ok(Next::End);
    }
    if remaining < HEADER_BYTES as u64 {
        return Ok(Next::Damaged("partial frame header"));
    }
    let mut header = [0u8; HEADER_BYTES];
    reader.read_exact(&mut header)?;
    let len = u32::from_le_bytes(header[0..4].try_into().expect("4 bytes"));
    let crc = u32::from_le_bytes(header[4..8].try_into().expect("4 bytes"));
    let offset = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
    let frame_len = HEADER_BYTES as u64 + u64::from(len);
    if frame_len > remaining {
        return Ok(Next::Damaged("frame runs past the end of the file"));
    }
    if skip {
        reader.seek_relative(i64::from(len))?;
        return Ok(Next::Frame {
            offset,
            payload: None,
            frame_len,
        });
    }
    let mut payload = vec![0u8; len as usize];
    reader.read_exact(&mut payload)?;
    if crc32fast::hash(&payload) != crc {
        return Ok(Next::Damaged("checksum mismatch"));
    }
    Ok(Next::Frame {
        offset,
        payload: Some(Bytes::from(payload)),
        frame_len,
    })
}

/// Decodes a checked payload. Key, value and header values share the payload's buffer.
pub(crate) fn decode(payload: Bytes) -> Result<Record, &'static str> {
    let mut cursor = Cursor {
        bytes: &payload,
        at: 0,
    };
    let timestamp_ms = i64::from_le_bytes(cursor.take(8)?.try_into().expect("8 bytes"));
    let key = cursor.take_prefixed(&payload)?;
    let value = cursor.take_prefixed(&payload)?;
    let count = cursor.take_u32()?;
    // Each header takes at least 8 bytes: a bad count cannot make us reserve much.
    let mut headers = Vec::with_capacity((count as usize).min(cursor.left() / 8));
    for _ in 0..count {
        let name = cursor.take_prefixed(&payload)?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| "header name is not UTF-8")?;
        let value = cursor.take_prefixed(&payload)?;
        headers.push(Header { name, value });
    }
    if cursor.left() != 0 {
        return Err("bytes left after the record");
    }
    Ok(Record {
        key,
        value,
        headers: headers.into(),
        timestamp_ms,
    })
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, len: usize) -> Result<&[u8], &'static str> {
        if len > self.left() {
            return Err("field runs past the end of the record");
        }
        let taken = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(taken)
    }

    fn take_u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A length-prefixed field, as a slice of `payload` (no copy).
    fn take_prefixed(&mut self, payload: &Bytes) -> Result<Bytes, &'static str> {
        let len = self.take_u32()? as usize;
        self.take(len)?;
        Ok(payload.slice(self.at - len..self.at))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor as IoCursor;

    use super::*;

    fn sample() -> Record {
        Record::new("context-key", "value bytes", 1_700_000_000_123)
            .with_header("vexil-payload-id", "abc")
            .with_header("traceparent", "00-01")
    }

    fn frame_of(record: &Record, offset: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        encode(record, payload_len(record), &mut bytes);
        set_offset(&mut bytes, offset);
        bytes
    }

    #[test]
    fn a_record_comes_back_as_encoded() {
        let record = sample();
        let bytes = frame_of(&record, 42);
        assert_eq!(bytes.len(), HEADER_BYTES + payload_len(&record));
        let mut reader = IoCursor::new(bytes.clone());
        let Next::Frame {
            offset,
            payload,
            frame_len,
        } = read_frame(&mut reader, bytes.len() as u64, false).unwrap()
        else {
            panic!("expected a frame");
        };
        assert_eq!((offset, frame_len), (42, bytes.len() as u64));
        assert_eq!(decode(payload.unwrap()).unwrap(), record);
    }

    #[test]
    fn a_flipped_payload_bit_is_damage() {
        let mut bytes = frame_of(&sample(), 0);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let mut reader = IoCursor::new(bytes.clone());
        let next = read_frame(&mut reader, bytes.len() as u64, false).unwrap();
        assert!(matches!(next, Next::Damaged("checksum mismatch")));
    }

    #[test]
    fn a_short_tail_is_damage() {
        let bytes = frame_of(&sample(), 0);
        for cut in [1, HEADER_BYTES - 1, HEADER_BYTES + 3, bytes.len() - 1] {
            let mut reader = IoCursor::new(bytes[..cut].to_vec());
            let next = read_frame(&mut reader, cut as u64, false).unwrap();
            assert!(matches!(next, Next::Damaged(_)), "cut at {cut}");
        }
    }

    #[test]
    fn inconsistent_lengths_are_refused_not_panicked_on() {
        let mut payload = 5i64.to_le_bytes().to_vec();
        payload.extend_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            decode(Bytes::from(payload)),
            Err("field runs past the end of the record")
        );
    }
}
