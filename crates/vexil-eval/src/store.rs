//! Where evaluation finds prerequisite flags and segments: the [`Store`] trait and [`FlagData`].

use rustc_hash::FxHashMap;

use crate::model::{AllData, Flag, Segment};
use crate::prepare::{PreparedFlag, PreparedSegment};

/// Read access to an environment's prepared flags and segments.
///
/// Implementations must hide deleted items (tombstones): a deleted flag or segment is absent.
pub trait Store {
    /// The live flag with this key.
    fn flag(&self, key: &str) -> Option<&PreparedFlag>;
    /// The live segment with this key.
    fn segment(&self, key: &str) -> Option<&PreparedSegment>;
}

/// An environment's flags and segments, prepared for evaluation, keyed for O(1) lookup.
#[derive(Debug, Default)]
pub struct FlagData {
    flags: FxHashMap<String, PreparedFlag>,
    segments: FxHashMap<String, PreparedSegment>,
}

/// A data file or payload that is not valid flag data.
#[derive(Debug, thiserror::Error)]
#[error("invalid flag data at {path} (line {line}, column {column}): {message}")]
pub struct DataError {
    /// JSON path of the offending value, e.g. `flags.my-flag.rules[0].clauses`.
    pub path: String,
    /// 1-based line in the input.
    pub line: usize,
    /// 1-based column in the input.
    pub column: usize,
    /// What was wrong.
    pub message: String,
}

impl FlagData {
    /// Empty data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a server-side polling payload `{"flags": {...}, "segments": {...}}`, naming the
    /// JSON path of the first malformed value on failure. Deleted items are kept as tombstones.
    pub fn from_json(json: &str) -> Result<Self, DataError> {
        // A derived struct decoder would also accept an array; the payload is always an object.
        let start = json.len() - json.trim_start().len();
        if json[start..]
            .chars()
            .next()
            .is_some_and(|first| first != '{')
        {
            let before = &json[..start];
            return Err(DataError {
                path: ".".into(),
                line: before.matches('\n').count() + 1,
                column: before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1,
                message: r#"flag data must be a JSON object {"flags": {...}, "segments": {...}}"#
                    .into(),
            });
        }
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let data: AllData =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
                let path = error.path().to_string();
                let inner = error.into_inner();
                DataError {
                    path,
                    line: inner.line(),
                    column: inner.column(),
                    message: inner.to_string(),
                }
            })?;
        Ok(Self::from_all_data(data))
    }

    /// Prepares every flag and segment of a payload.
    pub fn from_all_data(data: AllData) -> Self {
        let mut flag_data = Self::new();
        for (key, mut flag) in data.flags {
            flag.key = key;
            flag_data.upsert_flag(flag);
        }
        for (key, mut segment) in data.segments {
            segment.key = key;
            flag_data.upsert_segment(segment);
        }
        flag_data
    }

    /// Inserts or replaces a flag (a tombstone hides it). No version check: callers that
    /// apply streamed updates compare versions first.
    pub fn upsert_flag(&mut self, flag: Flag) {
        self.flags.insert(flag.key.clone(), PreparedFlag::new(flag));
    }

    /// Inserts or replaces a segment (a tombstone hides it).
    pub fn upsert_segment(&mut self, segment: Segment) {
        self.segments
            .insert(segment.key.clone(), PreparedSegment::new(segment));
    }

    /// Every flag, tombstones included.
    pub fn flags(&self) -> impl Iterator<Item = &PreparedFlag> {
        self.flags.values()
    }

    /// Every segment, tombstones included.
    pub fn segments(&self) -> impl Iterator<Item = &PreparedSegment> {
        self.segments.values()
    }
}

impl Store for FlagData {
    fn flag(&self, key: &str) -> Option<&PreparedFlag> {
        self.flags.get(key).filter(|flag| !flag.flag().deleted)
    }

    fn segment(&self, key: &str) -> Option<&PreparedSegment> {
        self.segments
            .get(key)
            .filter(|segment| !segment.segment().deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_must_be_an_object_with_valid_flags() {
        for (input, line, column) in [("[]", 1, 1), ("\n  7", 2, 3)] {
            let error = FlagData::from_json(input).unwrap_err();
            assert_eq!(
                (error.path.as_str(), error.line, error.column),
                (".", line, column),
                "{input:?}"
            );
        }
        assert!(FlagData::from_json("").unwrap_err().message.contains("EOF"));
        let error =
            FlagData::from_json(r#"{"flags": {"f": {"rules": [{"clauses": [{"op": 3}]}]}}}"#)
                .unwrap_err();
        assert_eq!(error.path, "flags.f.rules[0].clauses[0].op");
        assert_eq!(error.line, 1);
    }

    #[test]
    fn tombstones_are_hidden_from_lookups() {
        let data = FlagData::from_json(r#"{"flags": {"gone": {"deleted": true}, "here": {}}, "segments": {"s": {"deleted": true}}}"#)
            .unwrap();
        assert!(data.flag("gone").is_none());
        assert_eq!(data.flag("here").map(PreparedFlag::key), Some("here"));
        assert!(data.segment("s").is_none());
        assert_eq!(data.flags().count(), 2);
    }
}
