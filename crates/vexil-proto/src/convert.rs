//! Conversions between the wire messages and `vexil-eval`'s model.

use crate::config::v1::{FlagUpsert, SegmentUpsert};
use vexil_eval::{Flag, Segment};

/// A flag or segment whose JSON does not decode.
#[derive(Debug, thiserror::Error)]
#[error("invalid {item} JSON for `{key}`: {source}")]
pub struct DecodeError {
    item: &'static str,
    key: String,
    #[source]
    source: serde_json::Error,
}

impl FlagUpsert {
    /// Wraps a flag as sent to SDKs.
    pub fn from_flag(flag: &Flag) -> Self {
        FlagUpsert {
            key: flag.key.clone(),
            version: flag.version,
            json: serde_json::to_vec(flag).expect("a flag always serializes"),
        }
    }

    /// Decodes the flag JSON.
    pub fn to_flag(&self) -> Result<Flag, DecodeError> {
        serde_json::from_slice(&self.json).map_err(|source| DecodeError {
            item: "flag",
            key: self.key.clone(),
            source,
        })
    }
}

impl SegmentUpsert {
    /// Wraps a segment as sent to SDKs.
    pub fn from_segment(segment: &Segment) -> Self {
        SegmentUpsert {
            key: segment.key.clone(),
            version: segment.version,
            json: serde_json::to_vec(segment).expect("a segment always serializes"),
        }
    }

    /// Decodes the segment JSON.
    pub fn to_segment(&self) -> Result<Segment, DecodeError> {
        serde_json::from_slice(&self.json).map_err(|source| DecodeError {
            item: "segment",
            key: self.key.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_survives_the_round_trip() {
        let flag: Flag = serde_json::from_str(
            r#"{"key":"f","version":3,"on":true,"variations":[true,false],
                "fallthrough":{"variation":0},"offVariation":1,"salt":"s"}"#,
        )
        .unwrap();
        let upsert = FlagUpsert::from_flag(&flag);
        assert_eq!((upsert.key.as_str(), upsert.version), ("f", 3));
        assert_eq!(upsert.to_flag().unwrap(), flag);
    }

    #[test]
    fn bad_json_names_the_item() {
        let upsert = SegmentUpsert {
            key: "beta".into(),
            version: 1,
            json: b"{".to_vec(),
        };
        let error = upsert.to_segment().unwrap_err().to_string();
        assert!(
            error.starts_with("invalid segment JSON for `beta`"),
            "{error}"
        );
    }
}
