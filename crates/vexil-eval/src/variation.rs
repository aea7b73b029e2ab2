//! The SDK entry point (spec 3.2): defaults, unknown flags, invalid contexts and typed calls.

use std::str::FromStr;

use serde_json::Value;

use crate::context::Context;
use crate::evaluate::evaluate;
use crate::reason::{ErrorKind, EvaluationDetail, Reason};
use crate::store::Store;

/// The JSON type a typed variation call expects (`boolVariation`, `intVariation`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueType {
    /// A JSON boolean.
    Bool,
    /// A JSON number (LaunchDarkly SDKs truncate a non-integral number; the value is returned as is).
    Int,
    /// A JSON number.
    Double,
    /// A JSON string.
    String,
    /// Any JSON value.
    #[default]
    Any,
}

impl ValueType {
    /// Whether a result value fits this type.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            ValueType::Bool => value.is_boolean(),
            ValueType::Int | ValueType::Double => value.is_number(),
            ValueType::String => value.is_string(),
            ValueType::Any => true,
        }
    }
}

impl FromStr for ValueType {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "bool" => Ok(ValueType::Bool),
            "int" => Ok(ValueType::Int),
            "double" => Ok(ValueType::Double),
            "string" => Ok(ValueType::String),
            "any" => Ok(ValueType::Any),
            other => Err(format!(
                "unknown value type {other:?}: expected bool, int, double, string or any"
            )),
        }
    }
}

/// Evaluates a flag the way an SDK's `variationDetail` call does. The returned `value` is always
/// set: the result, or `default` when there is none.
///
/// `context` is `None` when the caller's context was invalid. Vexil checks the context before
/// looking up the flag (the Go SDK's order; the spec's reference list allows either), so an
/// invalid context reports `USER_NOT_SPECIFIED` even for an unknown flag.
pub fn variation_detail<'a, S: Store>(
    store: &'a S,
    flag_key: &str,
    context: Option<&Context>,
    default: &'a Value,
    value_type: ValueType,
) -> EvaluationDetail<'a> {
    let with_default = |error_kind| EvaluationDetail {
        value: Some(default),
        variation_index: None,
        reason: Reason::Error { error_kind },
    };
    let Some(context) = context else {
        return with_default(ErrorKind::UserNotSpecified);
    };
    let Some(flag) = store.flag(flag_key) else {
        return with_default(ErrorKind::FlagNotFound);
    };
    let detail = evaluate(flag, context, store);
    match detail.value {
        None | Some(Value::Null) => EvaluationDetail {
            value: Some(default),
            ..detail
        },
        Some(value) if !value_type.accepts(value) => with_default(ErrorKind::WrongType),
        Some(_) => detail,
    }
}

#[cfg(test)]
mod tests;
