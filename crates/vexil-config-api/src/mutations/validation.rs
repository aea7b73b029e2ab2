//! Adapts `vexil_eval::validate` (the rules) to API errors (422 listing every problem,
//! each with a JSON path).

use vexil_eval::validate::{self, ValidationError};
use vexil_eval::{Flag, Segment};

use crate::error::{ApiError, ApiResult, FieldError};

/// 422 unless the key has the right format; `field` names it in the error.
pub fn key(field: &str, key: &str) -> ApiResult<()> {
    validate::validate_key(key).map_err(|reason| ApiError::invalid_field(field, reason))
}

/// Flag keys that name a route under `/projects/{project}/flags/`.
const RESERVED_FLAG_KEYS: [&str; 1] = ["stale"];

/// A flag key: the key format, and not one of the words the flag routes use.
pub fn flag_key(field: &str, key: &str) -> ApiResult<()> {
    self::key(field, key)?;
    if RESERVED_FLAG_KEYS.contains(&key) {
        return Err(ApiError::invalid_field(
            field,
            format!("`{key}` is reserved: GET /api/v1/projects/{{project}}/flags/{key} lists stale flags"),
        ));
    }
    Ok(())
}

/// Checks one flag on its own and against the other flags and segments of its
/// environment (prerequisites, segment references, cycles).
pub fn flag(flag: &Flag, others: &[Flag], segments: &[Segment]) -> ApiResult<()> {
    let mut errors = validate::validate_flag(flag);
    if errors.is_empty() {
        let lookup = |key: &str| {
            if key == flag.key {
                Some(flag)
            } else {
                others.iter().find(|other| other.key == key)
            }
        };
        errors.extend(validate::validate_prerequisites(flag, lookup));
        let segment_lookup = |key: &str| segments.iter().find(|segment| segment.key == key);
        errors.extend(validate::validate_flag_segment_references(
            flag,
            segment_lookup,
        ));
    }
    reject(&format!("flag `{}`", flag.key), errors)
}

/// Checks one segment on its own and against the other segments of its environment.
pub fn segment(segment: &Segment, others: &[Segment]) -> ApiResult<()> {
    let mut errors = validate::validate_segment(segment);
    if errors.is_empty() {
        let lookup = |key: &str| {
            if key == segment.key {
                Some(segment)
            } else {
                others.iter().find(|other| other.key == key)
            }
        };
        errors.extend(validate::validate_segment_segment_references(
            segment, lookup,
        ));
    }
    reject(&format!("segment `{}`", segment.key), errors)
}

fn reject(item: &str, errors: Vec<ValidationError>) -> ApiResult<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let message = match errors.as_slice() {
        [only] => format!("invalid {item}: {}: {}", only.path, only.reason),
        many => format!("invalid {item}: {} problems", many.len()),
    };
    Err(ApiError::invalid(
        message,
        errors
            .into_iter()
            .map(|error| FieldError {
                path: error.path,
                reason: error.reason,
            })
            .collect(),
    ))
}
