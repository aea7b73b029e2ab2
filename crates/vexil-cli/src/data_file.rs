//! Loads a flag data file (the server-side polling payload), turning every problem into an
//! [`InputError`] that names the file, line, column, flag or segment key and JSON path.

use std::fs;
use std::path::Path;

use serde_json::Value;
use vexil_eval::{DataError, FlagData};

use crate::error::{InputError, Location};

/// Reads and prepares the flags and segments in `path`.
pub fn load(path: &Path) -> Result<FlagData, InputError> {
    let name = path.display().to_string();
    let json = fs::read_to_string(path).map_err(|source| InputError::Unreadable {
        name: name.clone(),
        source,
    })?;
    FlagData::from_json(&json).map_err(|error| data_error(name, &json, error))
}

fn data_error(name: String, json: &str, error: DataError) -> InputError {
    // serde_json ends its messages with the position, which the location already gives.
    let position = format!(" at line {} column {}", error.line, error.column);
    let message = error
        .message
        .strip_suffix(&position)
        .unwrap_or(&error.message)
        .to_owned();
    let item = match item_at(&error.path, json) {
        Some((kind, key)) => format!(" for {kind} {key:?}"),
        None => String::new(),
    };
    InputError::FlagData {
        // serde_json reports column 0 for an error at the very start of a line (such as an
        // unexpected end of file); there is no column to point to then.
        location: Location {
            name,
            line: error.line,
            column: (error.column > 0).then_some(error.column),
        },
        item,
        json_path: error.path,
        message,
    }
}

/// The flag or segment a JSON path such as `flags.my-flag.rules[0].op` points into:
/// `("flag", "my-flag")`.
///
/// The path does not quote keys, and keys may contain dots, so the key is the longest key of the
/// document's `flags` (or `segments`) object that the path continues from. When the document is
/// not even valid JSON those keys are unknown, and the key ends before the first field name.
fn item_at(json_path: &str, json: &str) -> Option<(&'static str, String)> {
    let (kind, section, rest, fields) = if let Some(rest) = json_path.strip_prefix("flags.") {
        ("flag", "flags", rest, vexil_eval::Flag::FIELDS)
    } else if let Some(rest) = json_path.strip_prefix("segments.") {
        ("segment", "segments", rest, vexil_eval::Segment::FIELDS)
    } else {
        return None;
    };
    let key = match serde_json::from_str::<Value>(json) {
        Ok(document) => document
            .get(section)
            .and_then(Value::as_object)
            .and_then(|items| {
                items
                    .keys()
                    .filter(|key| continues_from(rest, key))
                    .max_by_key(|key| key.len())
            })
            .map_or_else(|| key_before_field(rest, fields), Clone::clone),
        Err(_) => key_before_field(rest, fields),
    };
    Some((kind, key))
}

/// Whether `rest` is `key` or `key` followed by a deeper path segment.
fn continues_from(rest: &str, key: &str) -> bool {
    rest.strip_prefix(key)
        .is_some_and(|after| after.is_empty() || after.starts_with(['.', '[']))
}

/// `rest` up to the first `.` that starts a known field name, or all of it. A `?` segment (a
/// field whose name was not read yet) counts as a field name.
fn key_before_field(rest: &str, fields: &[&str]) -> String {
    let field_starts = rest.match_indices('.').map(|(index, _)| index);
    for index in field_starts {
        let after = &rest[index + 1..];
        if fields
            .iter()
            .chain(&["?"])
            .any(|field| continues_from(after, field))
        {
            return rest[..index].to_owned();
        }
    }
    rest.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_keys_come_from_the_document_even_with_dots() {
        let json = r#"{"flags": {"a": {}, "a.rules": {"on": 3}}}"#;
        let cases = [
            ("flags.a.rules.on", Some(("flag", "a.rules"))),
            ("flags.a.on", Some(("flag", "a"))),
            ("flags.a", Some(("flag", "a"))),
            ("segments.beta.rules[0]", Some(("segment", "beta"))),
            ("flags", None),
            (".", None),
        ];
        for (path, expected) in cases {
            let found = item_at(path, json);
            assert_eq!(
                found.as_ref().map(|(kind, key)| (*kind, key.as_str())),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn item_keys_of_invalid_json_end_before_a_field_name() {
        let json = r#"{"flags": {"#;
        let cases = [
            ("flags.my.flag.rules[0].clauses[1].op", ("flag", "my.flag")),
            (
                "flags.my-flag.fallthrough.rollout.variations[0]",
                ("flag", "my-flag"),
            ),
            ("flags.my.flag", ("flag", "my.flag")),
            ("flags.my.flag.?", ("flag", "my.flag")),
            ("segments.beta.included[2]", ("segment", "beta")),
        ];
        for (path, (kind, key)) in cases {
            assert_eq!(item_at(path, json), Some((kind, key.to_owned())), "{path}");
        }
    }
}
