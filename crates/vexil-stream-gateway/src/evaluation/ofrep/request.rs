//! OFREP request bodies `{"context": {...}}` and their conversion to a context (spec 8.2).

use serde_json::{Map, Value};
use vexil_eval::{Context, ContextError};

use super::error_code::{OfrepError, OfrepErrorCode};

/// Why an OFREP request cannot be evaluated: the whole request fails (spec 8.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfrepRequestError {
    /// The body is not JSON.
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is not an object with a `context` object.
    #[error("request body must be a JSON object with a `context` object")]
    NoContext,
    /// An individual context has no usable key.
    #[error("context of kind {kind:?} has no targeting key: `targetingKey` (or `key`) must be a non-empty string")]
    TargetingKeyMissing {
        /// Kind of the individual context without a key.
        kind: String,
    },
    /// The converted context is invalid otherwise.
    #[error("invalid context: {0}")]
    InvalidContext(ContextError),
}

impl OfrepRequestError {
    /// The OFREP error code: `PARSE_ERROR`, `TARGETING_KEY_MISSING` or `INVALID_CONTEXT`.
    pub fn error_code(&self) -> OfrepErrorCode {
        match self {
            OfrepRequestError::NotJson(_) | OfrepRequestError::NoContext => {
                OfrepErrorCode::ParseError
            }
            OfrepRequestError::TargetingKeyMissing { .. } => OfrepErrorCode::TargetingKeyMissing,
            OfrepRequestError::InvalidContext(_) => OfrepErrorCode::InvalidContext,
        }
    }

    /// The response body (always status `400`): with the flag key on the single-flag endpoint,
    /// without on the bulk endpoint.
    pub fn to_ofrep_error<'a>(&self, flag_key: Option<&'a str>) -> OfrepError<'a> {
        OfrepError {
            key: flag_key,
            error_code: self.error_code(),
            error_details: self.to_string(),
        }
    }
}

/// Parses the body of `POST /ofrep/v1/evaluate/flags[/{key}]` into a context.
pub fn parse_ofrep_request(body: &[u8]) -> Result<Context, OfrepRequestError> {
    let body: Value = serde_json::from_slice(body)
        .map_err(|error| OfrepRequestError::NotJson(error.to_string()))?;
    match body.get("context") {
        Some(Value::Object(context)) => ofrep_context(context),
        _ => Err(OfrepRequestError::NoContext),
    }
}

/// Converts an OFREP evaluation context as LaunchDarkly's OpenFeature providers do (spec 8.2):
/// `kind` (default `user`, or `multi` with one object per kind), the key from `targetingKey`
/// or else `key`, `name`, `anonymous` and `privateAttributes` when correctly typed, and every
/// other property as a custom attribute.
///
/// Choices where the spec is silent, following LaunchDarkly's Python provider: a
/// `privateAttributes` array keeps its strings and drops its other items; `_meta` is not an
/// attribute and is dropped; in a multi-kind context, top-level properties that are not
/// objects (including `targetingKey`) are ignored.
pub fn ofrep_context(context: &Map<String, Value>) -> Result<Context, OfrepRequestError> {
    let converted = match context.get("kind") {
        Some(Value::String(kind)) if kind == "multi" => {
            let mut multi = Map::new();
            multi.insert("kind".into(), "multi".into());
            for (kind, nested) in context {
                if let (false, Value::Object(nested)) = (kind == "kind", nested) {
                    multi.insert(kind.clone(), Value::Object(individual(nested)));
                }
            }
            multi
        }
        kind => {
            let mut single = individual(context);
            let kind = kind.and_then(Value::as_str).unwrap_or("user");
            single.insert("kind".into(), kind.into());
            single
        }
    };
    Context::from_json(&Value::Object(converted)).map_err(|error| match error {
        ContextError::MissingKey { kind } => OfrepRequestError::TargetingKeyMissing { kind },
        other => OfrepRequestError::InvalidContext(other),
    })
}

/// One individual context in LaunchDarkly's JSON format, without `kind` (rules 3 to 5).
fn individual(attributes: &Map<String, Value>) -> Map<String, Value> {
    let mut converted = Map::new();
    let key = match (attributes.get("targetingKey"), attributes.get("key")) {
        (Some(Value::String(key)), _) if !key.is_empty() => Some(key),
        (_, Some(Value::String(key))) => Some(key),
        _ => None,
    };
    if let Some(key) = key {
        converted.insert("key".into(), key.as_str().into());
    }
    for (name, value) in attributes {
        match (name.as_str(), value) {
            ("targetingKey" | "key" | "kind" | "_meta", _) => {}
            ("name", Value::String(_)) | ("anonymous", Value::Bool(_)) => {
                converted.insert(name.clone(), value.clone());
            }
            ("name" | "anonymous", _) => {}
            ("privateAttributes", Value::Array(items)) => {
                let references: Vec<Value> = items
                    .iter()
                    .filter(|item| item.is_string())
                    .cloned()
                    .collect();
                converted.insert(
                    "_meta".into(),
                    serde_json::json!({ "privateAttributes": references }),
                );
            }
            ("privateAttributes", _) => {}
            _ => {
                converted.insert(name.clone(), value.clone());
            }
        }
    }
    converted
}

#[cfg(test)]
mod tests;
