//! SSE frames of LaunchDarkly's `/all` stream (spec 5.3): `put`, `patch`, `delete` and
//! the heartbeat comment. Every JSON document is one `data:` line.

use bytes::Bytes;

use super::ids::ItemKind;

/// An SSE comment; SDKs drop a stream after 5 minutes without bytes.
pub const HEARTBEAT: &[u8] = b":\n\n";

/// `event: put` replacing everything with `body` (`{"flags":{...},"segments":{...}}`).
pub fn put(body: &[u8]) -> Bytes {
    const HEAD: &[u8] = b"event: put\ndata: {\"path\":\"/\",\"data\":";
    let mut frame = Vec::with_capacity(HEAD.len() + body.len() + 3);
    frame.extend_from_slice(HEAD);
    frame.extend_from_slice(body);
    frame.extend_from_slice(b"}\n\n");
    Bytes::from(frame)
}

/// `event: patch` with one complete item.
pub fn patch(kind: ItemKind, key: &str, json: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(48 + key.len() + json.len());
    frame.extend_from_slice(b"event: patch\ndata: {\"path\":");
    write_path(&mut frame, kind, key);
    frame.extend_from_slice(b",\"data\":");
    frame.extend_from_slice(json);
    frame.extend_from_slice(b"}\n\n");
    Bytes::from(frame)
}

/// `event: delete` with the tombstone version.
pub fn delete(kind: ItemKind, key: &str, version: u64) -> Bytes {
    let mut frame = Vec::with_capacity(64 + key.len());
    frame.extend_from_slice(b"event: delete\ndata: {\"path\":");
    write_path(&mut frame, kind, key);
    frame.extend_from_slice(b",\"version\":");
    frame.extend_from_slice(itoa::Buffer::new().format(version).as_bytes());
    frame.extend_from_slice(b"}\n\n");
    Bytes::from(frame)
}

/// `"/flags/<key>"` as a JSON string: the key verbatim, JSON-escaped, not URL-encoded.
fn write_path(frame: &mut Vec<u8>, kind: ItemKind, key: &str) {
    let path = format!("/{}/{key}", kind.collection());
    serde_json::to_writer(&mut *frame, &path).expect("writing to a Vec cannot fail");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(frame: &Bytes) -> &str {
        std::str::from_utf8(frame).unwrap()
    }

    #[test]
    fn frames_match_the_wire_protocol() {
        assert_eq!(
            text(&put(br#"{"flags":{},"segments":{}}"#)),
            "event: put\ndata: {\"path\":\"/\",\"data\":{\"flags\":{},\"segments\":{}}}\n\n"
        );
        assert_eq!(
            text(&patch(ItemKind::Flag, "new-checkout", br#"{"key":"new-checkout"}"#)),
            "event: patch\ndata: {\"path\":\"/flags/new-checkout\",\"data\":{\"key\":\"new-checkout\"}}\n\n"
        );
        assert_eq!(
            text(&delete(ItemKind::Segment, "beta-testers", 4)),
            "event: delete\ndata: {\"path\":\"/segments/beta-testers\",\"version\":4}\n\n"
        );
    }
}
