//! OFREP evaluation results: one flag (`POST /ofrep/v1/evaluate/flags/{key}`) and bulk
//! (`POST /ofrep/v1/evaluate/flags`), spec 8.3 to 8.5.

use serde::{Serialize, Serializer};
use serde_json::Value;
use vexil_eval::{evaluate, Context, ErrorKind, PreparedFlag, Reason};

use super::error_code::{OfrepError, OfrepErrorCode};
use super::reason::{ofrep_reason, OfrepMetadata, OfrepReason};
use crate::evaluation::source::{visible_flag, visible_flags, EvaluationSource, FlagVisibility};

/// A successful evaluation (spec 8.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfrepSuccess<'a> {
    /// The flag key.
    pub key: &'a str,
    /// The value; omitted when the evaluation has none (off without an off variation), so the
    /// provider serves the application's default ("code default", OFREP ADR-0006).
    ///
    /// Vexil choice: a variation whose value is JSON `null` is also omitted, since LaunchDarkly
    /// SDKs serve the default for it and `null` is no OFREP type. Arrays are returned as they
    /// are (spec 8.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'a Value>,
    /// Why the value was served.
    pub reason: OfrepReason,
    /// The variation index as a decimal string; omitted with the value.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "decimal_string"
    )]
    pub variant: Option<usize>,
    /// Flat LaunchDarkly details.
    pub metadata: OfrepMetadata<'a>,
}

/// One flag's result: a success, or an error object with the flag key.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum OfrepFlagResult<'a> {
    /// The flag was evaluated.
    Success(OfrepSuccess<'a>),
    /// The flag is unknown or could not be evaluated.
    Error(OfrepError<'a>),
}

/// The bulk response body (spec 8.5): every visible flag, sorted by key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfrepBulk<'a> {
    /// Successes and per-flag failures.
    pub flags: Vec<OfrepFlagResult<'a>>,
    /// `{"environmentRevision": n}`.
    pub metadata: BulkMetadata,
}

/// The `metadata` of a bulk response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkMetadata {
    /// The environment revision the results belong to.
    pub environment_revision: u64,
}

/// Evaluates flag `flag_key` for the single-flag endpoint. Answer with
/// [`OfrepFlagResult::http_status`] and [`OfrepFlagResult::to_json`]: `200` for a success,
/// `404` `FLAG_NOT_FOUND` for a flag that is missing, deleted or not visible to `visibility`,
/// `400` `PARSE_ERROR` for a malformed flag (LaunchDarkly provider's mapping), `400` `GENERAL`
/// for other evaluation errors.
pub fn evaluate_ofrep_flag<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    flag_key: &'a str,
    context: &Context,
    visibility: FlagVisibility,
) -> OfrepFlagResult<'a> {
    match visible_flag(source, flag_key, visibility) {
        Some(flag) => evaluate_one(source, flag, context),
        None => OfrepFlagResult::Error(OfrepError {
            key: Some(flag_key),
            error_code: OfrepErrorCode::FlagNotFound,
            error_details: format!("flag `{flag_key}` not found"),
        }),
    }
}

/// Evaluates every flag `visibility` sees for the bulk endpoint (always `200` with
/// [`OfrepBulk::to_json`]; per-flag failures are items of `flags`).
///
/// The route computes [`crate::evaluation::evaluation_etag`] first, from the same revision,
/// visibility and context, and answers `304` without evaluating when `If-None-Match` matches.
pub fn evaluate_ofrep_bulk<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    context: &Context,
    visibility: FlagVisibility,
    environment_revision: u64,
) -> OfrepBulk<'a> {
    let flags = visible_flags(source, visibility)
        .into_iter()
        .map(|flag| evaluate_one(source, flag, context))
        .collect();
    OfrepBulk {
        flags,
        metadata: BulkMetadata {
            environment_revision,
        },
    }
}

impl OfrepFlagResult<'_> {
    /// The HTTP status of the single-flag endpoint for this result.
    pub fn http_status(&self) -> u16 {
        match self {
            OfrepFlagResult::Success(_) => 200,
            OfrepFlagResult::Error(error) => error.http_status(),
        }
    }

    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an OFREP result always serializes")
    }
}

impl OfrepBulk<'_> {
    /// The JSON body.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an OFREP bulk result always serializes")
    }
}

/// Evaluates a live, visible flag. OFREP contexts never carry a secondary key, so the default
/// evaluation options apply.
fn evaluate_one<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    flag: &'a PreparedFlag,
    context: &Context,
) -> OfrepFlagResult<'a> {
    let detail = evaluate(flag, context, source);
    if let Reason::Error { error_kind } = detail.reason {
        let (error_code, error_details) = match error_kind {
            ErrorKind::MalformedFlag => (
                OfrepErrorCode::ParseError,
                format!("flag `{}` has a malformed configuration", flag.key()),
            ),
            other => (
                OfrepErrorCode::General,
                format!(
                    "evaluation of flag `{}` failed: {}",
                    flag.key(),
                    other.as_str()
                ),
            ),
        };
        return OfrepFlagResult::Error(OfrepError {
            key: Some(flag.key()),
            error_code,
            error_details,
        });
    }
    let value = detail.value.filter(|value| !value.is_null());
    OfrepFlagResult::Success(OfrepSuccess {
        key: flag.key(),
        value,
        reason: ofrep_reason(flag.flag(), &detail.reason),
        variant: value.and(detail.variation_index),
        metadata: OfrepMetadata::new(flag.flag(), &detail.reason),
    })
}

fn decimal_string<S: Serializer>(index: &Option<usize>, serializer: S) -> Result<S::Ok, S::Error> {
    match index {
        Some(index) => serializer.collect_str(index),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests;
