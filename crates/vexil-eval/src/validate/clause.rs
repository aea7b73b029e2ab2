//! Clauses of flag and segment rules: operator, attribute, context kind and well-typed values.

use regex::Regex;
use serde_json::Value;

use super::names::{check_attribute, validate_context_kind, validate_key};
use super::{show, ValidationError};
use crate::datetime::instant_of;
use crate::model::Clause;
use crate::semver::Version;

/// Every operator evaluation knows (spec 3.7), in the order messages list them.
pub(super) const OPERATORS: [&str; 15] = [
    "in",
    "endsWith",
    "startsWith",
    "matches",
    "contains",
    "lessThan",
    "lessThanOrEqual",
    "greaterThan",
    "greaterThanOrEqual",
    "before",
    "after",
    "semVerEqual",
    "semVerLessThan",
    "semVerGreaterThan",
    "segmentMatch",
];

/// The operator whose values are segment keys.
pub(super) const SEGMENT_MATCH: &str = "segmentMatch";

/// Checks the clauses of the rule at `rule_path`. `own_segment` is the key of the segment
/// being validated, which its own `segmentMatch` clauses must not name.
pub(super) fn check_clauses(
    clauses: &[Clause],
    rule_path: &str,
    own_segment: Option<&str>,
    errors: &mut Vec<ValidationError>,
) {
    for (index, clause) in clauses.iter().enumerate() {
        check_clause(
            clause,
            &format!("{rule_path}.clauses[{index}]"),
            own_segment,
            errors,
        );
    }
}

fn check_clause(
    clause: &Clause,
    path: &str,
    own_segment: Option<&str>,
    errors: &mut Vec<ValidationError>,
) {
    let op = clause.op.as_str();
    if !OPERATORS.contains(&op) {
        errors.push(ValidationError::new(
            format!("{path}.op"),
            format!(
                "unknown operator {op:?}; expected one of {}",
                OPERATORS.join(", ")
            ),
        ));
    }
    // `segmentMatch` ignores `attribute` and `contextKind` (spec 3.6 step 1).
    if op != SEGMENT_MATCH {
        if let Err(reason) = check_attribute(&clause.attribute, clause.context_kind.is_some()) {
            errors.push(ValidationError::new(format!("{path}.attribute"), reason));
        }
        if let Some(kind) = &clause.context_kind {
            if let Err(reason) = validate_context_kind(kind) {
                errors.push(ValidationError::new(format!("{path}.contextKind"), reason));
            }
        }
    }
    if clause.values.is_empty() {
        errors.push(ValidationError::new(
            format!("{path}.values"),
            "must not be empty",
        ));
    }
    if !OPERATORS.contains(&op) {
        // Without a known operator there is no type to check the values against.
        return;
    }
    for (index, value) in clause.values.iter().enumerate() {
        let problem = if op == SEGMENT_MATCH {
            segment_key_problem(value, own_segment)
        } else {
            value_problem(op, value)
        };
        if let Some(reason) = problem {
            errors.push(ValidationError::new(
                format!("{path}.values[{index}]"),
                reason,
            ));
        }
    }
}

/// Why `value` could never match with operator `op` (not `segmentMatch`), if it could not.
/// Each check accepts exactly the values that `Matcher::prepare` keeps for that operator.
fn value_problem(op: &str, value: &Value) -> Option<String> {
    let shown = || show(value);
    match op {
        "in" => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => None,
            _ => Some(format!(
                "`in` compares strings, numbers and booleans; {} never matches",
                shown()
            )),
        },
        "startsWith" | "endsWith" | "contains" => {
            (!value.is_string()).then(|| format!("`{op}` needs a string, not {}", shown()))
        }
        "matches" => match value {
            Value::String(pattern) => regex_problem(pattern),
            _ => Some(format!(
                "`matches` needs a regular expression string, not {}",
                shown()
            )),
        },
        "lessThan" | "lessThanOrEqual" | "greaterThan" | "greaterThanOrEqual" => {
            (!value.is_number()).then(|| format!("`{op}` needs a number, not {}", shown()))
        }
        "before" | "after" => instant_of(value).is_none().then(|| {
            format!(
                "`{op}` needs a Unix time in milliseconds or an RFC 3339 date-time such as \
                 \"2024-01-31T12:00:00Z\", not {}",
                shown()
            )
        }),
        "semVerEqual" | "semVerLessThan" | "semVerGreaterThan" => {
            value.as_str().and_then(Version::parse).is_none().then(|| {
                format!(
                    "`{op}` needs a semantic version such as \"1.2.3\" or \"2.0.0-rc.1\", not {}",
                    shown()
                )
            })
        }
        _ => None,
    }
}

/// Why a `matches` pattern does not compile, compiled exactly as evaluation compiles it.
fn regex_problem(pattern: &str) -> Option<String> {
    let error = Regex::new(pattern).err()?;
    // Syntax errors span several lines (the pattern, a caret, then `error: ...`); keep the
    // last. Other errors are one sentence ("Compiled regex exceeds size limit of ...").
    let text = error.to_string();
    let detail = match text.lines().find_map(|line| line.strip_prefix("error: ")) {
        Some(detail) => detail.to_owned(),
        None => sentence_to_reason(text.trim()),
    };
    Some(format!(
        "invalid regular expression {}: {detail}",
        show(&Value::from(pattern))
    ))
}

/// A sentence as a reason: lowercase first letter, no trailing period.
fn sentence_to_reason(sentence: &str) -> String {
    let mut chars = sentence.trim_end_matches('.').chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Why a `segmentMatch` value does not name another segment, if it does not.
fn segment_key_problem(value: &Value, own_segment: Option<&str>) -> Option<String> {
    let Some(key) = value.as_str() else {
        return Some(format!(
            "`segmentMatch` needs segment keys (strings), not {}",
            show(value)
        ));
    };
    if own_segment == Some(key) {
        return Some("a segment cannot match itself".into());
    }
    validate_key(key)
        .err()
        .map(|reason| format!("invalid segment key {}: {reason}", show(value)))
}
