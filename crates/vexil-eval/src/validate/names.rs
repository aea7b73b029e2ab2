//! The formats of keys, context kinds and attribute references.

use crate::attribute_ref::{AttributeRef, InvalidRef};

/// The longest key [`validate_key`] accepts, in characters.
pub const MAX_KEY_LENGTH: usize = 256;

/// Checks a flag, segment, project or environment key: 1 to 256 ASCII letters, digits, `.`,
/// `_` and `-`, starting with a letter or digit (LaunchDarkly's rule). The error is a reason
/// to show after the field's name.
pub fn validate_key(key: &str) -> Result<(), String> {
    let Some(first) = key.chars().next() else {
        return Err("must not be empty".into());
    };
    if let Some(invalid) = key.chars().find(|&c| !is_key_char(c)) {
        return Err(format!(
            "may contain only ASCII letters, digits, '.', '_' and '-', not {invalid:?}"
        ));
    }
    // Every character is ASCII from here on, so bytes are characters.
    if key.len() > MAX_KEY_LENGTH {
        return Err(format!(
            "must be at most {MAX_KEY_LENGTH} characters long, not {}",
            key.len()
        ));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(format!("must start with a letter or digit, not {first:?}"));
    }
    Ok(())
}

/// Checks a context kind as contexts must spell it (spec 2.1, the rule `context.rs` applies to
/// contexts): non-empty ASCII letters, digits, `.`, `_` and `-`, and neither `kind` nor
/// `multi`.
pub fn validate_context_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(invalid) = kind.chars().find(|&c| !is_key_char(c)) {
        return Err(format!(
            "may contain only ASCII letters, digits, '.', '_' and '-', not {invalid:?}"
        ));
    }
    if kind == "kind" || kind == "multi" {
        return Err(format!("{kind:?} is not a context kind"));
    }
    Ok(())
}

/// Checks a clause `attribute` or a `bucketBy`: an attribute reference when the item names a
/// context kind, otherwise a literal attribute name (spec 1.10), where only `""` is invalid.
pub(super) fn check_attribute(attribute: &str, has_context_kind: bool) -> Result<(), String> {
    let reference = if has_context_kind {
        AttributeRef::parse(attribute)
    } else {
        AttributeRef::literal(attribute)
    };
    match reference.components() {
        Ok(_) => Ok(()),
        Err(InvalidRef::Empty) => Err("must not be empty".into()),
        Err(InvalidRef::EmptyComponent) => Err(format!(
            "invalid attribute reference {attribute:?}: a path component is empty"
        )),
        Err(InvalidRef::InvalidEscape) => Err(format!(
            "invalid attribute reference {attribute:?}: '~' must be followed by '0' or '1'"
        )),
    }
}

/// Checks a rollout's or segment rule's `bucketBy`, where absent and `""` both mean `key`.
pub(super) fn check_bucket_by(
    bucket_by: Option<&str>,
    has_context_kind: bool,
) -> Result<(), String> {
    match bucket_by {
        None | Some("") => Ok(()),
        Some(attribute) => check_attribute(attribute, has_context_kind),
    }
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}
