//! One flag or segment: its LaunchDarkly JSON exactly as SDKs receive it, its version,
//! and the form `vexil-eval` evaluates.

use bytes::Bytes;
use vexil_eval::{Flag, PreparedFlag, PreparedSegment, Segment};

/// A live flag or segment.
#[derive(Debug)]
pub struct Item<P> {
    version: u64,
    json: Bytes,
    /// `None` when the JSON is valid but not a valid flag or segment for `vexil-eval`
    /// (logged when it arrived); SDKs still receive the JSON as config-api sent it.
    prepared: Option<P>,
}

pub type FlagItem = Item<PreparedFlag>;
pub type SegmentItem = Item<PreparedSegment>;

/// Item JSON the gateway cannot embed in a payload.
#[derive(Debug, thiserror::Error)]
#[error("{collection} item `{key}` is not valid JSON")]
pub struct InvalidItemJson {
    pub collection: &'static str,
    pub key: String,
    #[source]
    pub source: serde_json::Error,
}

impl<P> Item<P> {
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The LaunchDarkly JSON, one line.
    pub fn json(&self) -> &Bytes {
        &self.json
    }

    /// The item prepared for evaluation.
    pub fn prepared(&self) -> Option<&P> {
        self.prepared.as_ref()
    }
}

impl FlagItem {
    pub fn parse_flag(key: &str, version: u64, json: Bytes) -> Result<Self, InvalidItemJson> {
        let json = one_line(json, "flags", key)?;
        let prepared = match serde_json::from_slice::<Flag>(&json) {
            Ok(flag) => Some(PreparedFlag::new(flag)),
            Err(error) => {
                tracing::error!(flag_key = key, %error, "flag JSON does not decode, evaluations will report it missing");
                None
            }
        };
        Ok(Item {
            version,
            json,
            prepared,
        })
    }
}

impl SegmentItem {
    pub fn parse_segment(key: &str, version: u64, json: Bytes) -> Result<Self, InvalidItemJson> {
        let json = one_line(json, "segments", key)?;
        let prepared = match serde_json::from_slice::<Segment>(&json) {
            Ok(segment) => Some(PreparedSegment::new(segment)),
            Err(error) => {
                tracing::error!(segment_key = key, %error, "segment JSON does not decode, evaluations will report it missing");
                None
            }
        };
        Ok(Item {
            version,
            json,
            prepared,
        })
    }
}

/// Checks that `json` is JSON and returns it without line breaks, which would end an
/// SSE `data:` line. config-api sends compact JSON, so this copies only in odd cases.
fn one_line(json: Bytes, collection: &'static str, key: &str) -> Result<Bytes, InvalidItemJson> {
    let invalid = |source| InvalidItemJson {
        collection,
        key: key.to_owned(),
        source,
    };
    if json.iter().any(|&byte| byte == b'\n' || byte == b'\r') {
        let value: serde_json::Value = serde_json::from_slice(&json).map_err(invalid)?;
        let compact = serde_json::to_vec(&value).expect("a JSON value always serializes");
        return Ok(Bytes::from(compact));
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&json).map_err(invalid)?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_json_is_compacted_and_garbage_refused() {
        let item =
            FlagItem::parse_flag("f", 1, Bytes::from_static(b"{\n \"key\": \"f\"\n}")).unwrap();
        assert_eq!(item.json().as_ref(), br#"{"key":"f"}"#);
        assert!(item.prepared().is_some());
        let error = FlagItem::parse_flag("f", 1, Bytes::from_static(b"{nope")).unwrap_err();
        assert_eq!(error.to_string(), "flags item `f` is not valid JSON");
    }

    #[test]
    fn valid_json_that_is_not_a_flag_is_kept_for_sdks() {
        let item =
            FlagItem::parse_flag("f", 2, Bytes::from_static(br#"{"key":"f","on":"yes"}"#)).unwrap();
        assert!(item.prepared().is_none());
        assert_eq!(item.version(), 2);
    }
}
