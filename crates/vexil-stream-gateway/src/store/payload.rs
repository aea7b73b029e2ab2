//! The server-side payload `{"flags":{...},"segments":{...}}`, serialised once per change
//! and shared by every poll and stream: its body, `put` frame, ETag and gzip form.

use std::io::Write;
use std::sync::OnceLock;

use bytes::Bytes;
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};

use super::frames;

/// An environment's live flags and segments as LaunchDarkly server-side SDKs read them.
#[derive(Debug)]
pub struct Payload {
    body: Bytes,
    etag: String,
    put_frame: Bytes,
    /// Built by the first request that accepts gzip.
    gzip: OnceLock<Bytes>,
}

impl Payload {
    /// Builds the payload from live items, each given as `(key, json)`. Items are written
    /// in key order, so equal data gives an equal body and ETag on every replica.
    pub fn build<'a>(
        flags: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        segments: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Payload {
        let mut body = Vec::with_capacity(4096);
        body.extend_from_slice(b"{\"flags\":");
        write_map(&mut body, flags);
        body.extend_from_slice(b",\"segments\":");
        write_map(&mut body, segments);
        body.push(b'}');
        let digest = Sha256::digest(&body);
        let etag = hex::encode(&digest[..16]);
        let put_frame = frames::put(&body);
        Payload {
            body: Bytes::from(body),
            etag,
            put_frame,
            gzip: OnceLock::new(),
        }
    }

    /// The `/sdk/latest-all` body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// A hash of the body (hex, unquoted): equal exactly when the bodies are equal.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The complete SSE `put` event for `/all`.
    pub fn put_frame(&self) -> &Bytes {
        &self.put_frame
    }

    /// The body, gzip-compressed.
    pub fn gzip(&self) -> &Bytes {
        self.gzip.get_or_init(|| {
            let mut encoder = GzEncoder::new(
                Vec::with_capacity(self.body.len() / 4 + 64),
                Compression::fast(),
            );
            encoder
                .write_all(&self.body)
                .expect("writing to a Vec cannot fail");
            Bytes::from(encoder.finish().expect("writing to a Vec cannot fail"))
        })
    }
}

/// A JSON object of items, `{"key":<json>,...}`, in key order.
pub fn json_map<'a>(items: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    write_map(&mut out, items);
    Bytes::from(out)
}

fn write_map<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = (&'a str, &'a [u8])>) {
    let mut items: Vec<_> = items.into_iter().collect();
    items.sort_unstable_by(|left, right| left.0.cmp(right.0));
    out.push(b'{');
    for (index, (key, json)) in items.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).expect("writing to a Vec cannot fail");
        out.push(b':');
        out.extend_from_slice(json);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn body_is_sorted_and_both_maps_are_always_present() {
        let empty = Payload::build([], []);
        assert_eq!(empty.body().as_ref(), br#"{"flags":{},"segments":{}}"#);
        let payload = Payload::build(
            [("b", &b"{\"key\":\"b\"}"[..]), ("a\"", &b"{}"[..])],
            [("s", &b"{\"key\":\"s\"}"[..])],
        );
        assert_eq!(
            std::str::from_utf8(payload.body()).unwrap(),
            r#"{"flags":{"a\"":{},"b":{"key":"b"}},"segments":{"s":{"key":"s"}}}"#
        );
        assert_ne!(payload.etag(), empty.etag());
        assert_eq!(payload.etag().len(), 32);
    }

    #[test]
    fn gzip_decompresses_to_the_body() {
        let payload = Payload::build([("f", &b"{\"key\":\"f\"}"[..])], []);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(payload.gzip().as_ref())
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, payload.body().as_ref());
    }
}
