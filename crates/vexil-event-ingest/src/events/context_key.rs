//! The canonical key (spec 2.6) of an event's context, from `context` (a redacted context,
//! spec 6.2) or `contextKeys` (kind -> key): what the event's Kafka record is keyed by.

use serde_json::{Map, Value};
use vexil_eval::Context;

/// Why an event's context is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("`context` or `contextKeys` is required")]
    Missing,
    #[error("`context` is invalid: {0}")]
    InvalidContext(#[from] vexil_eval::ContextError),
    #[error("`contextKeys` must be a non-empty object of kind to key strings")]
    InvalidContextKeys,
}

/// The canonical key of `context`, or else of `contextKeys`. The keys are parsed by
/// `vexil-eval`'s `Context`, the one owner of context validity and canonical keys.
pub fn context_key(
    context: Option<&Value>,
    context_keys: Option<&Value>,
) -> Result<String, ContextError> {
    if let Some(context) = context.filter(|context| !context.is_null()) {
        return Ok(Context::from_json(context)?.canonical_key());
    }
    let keys = match context_keys {
        Some(Value::Object(keys)) if !keys.is_empty() => keys,
        Some(value) if !value.is_null() => return Err(ContextError::InvalidContextKeys),
        _ => return Err(ContextError::Missing),
    };
    let mut multi = Map::with_capacity(keys.len() + 1);
    multi.insert("kind".into(), Value::String("multi".into()));
    for (kind, key) in keys {
        if !key.is_string() {
            return Err(ContextError::InvalidContextKeys);
        }
        let mut individual = Map::with_capacity(1);
        individual.insert("key".into(), key.clone());
        multi.insert(kind.clone(), Value::Object(individual));
    }
    Context::from_json(&Value::Object(multi))
        .map(|context| context.canonical_key())
        .map_err(|_| ContextError::InvalidContextKeys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(context: Value) -> Result<String, ContextError> {
        context_key(Some(&context), None)
    }

    fn keys(context_keys: Value) -> Result<String, ContextError> {
        context_key(None, Some(&context_keys))
    }

    #[test]
    fn canonical_keys_follow_spec_2_6() {
        assert_eq!(key(json!({"kind": "user", "key": "u-5"})).unwrap(), "u-5");
        assert_eq!(
            key(json!({"key": ""})).unwrap(),
            "",
            "old users may have an empty key"
        );
        assert_eq!(
            key(json!({"kind": "org", "key": "a:b%c", "_meta": {"redactedAttributes": ["name"]}}))
                .unwrap(),
            "org:a%3Ab%25c"
        );
        assert_eq!(
            key(json!({"kind": "multi", "user": {"key": "u"}, "device": {"key": "d"}})).unwrap(),
            "device:d:user:u"
        );
        assert_eq!(keys(json!({"user": "u-5"})).unwrap(), "u-5");
        assert_eq!(
            keys(json!({"user": "u", "device": "d"})).unwrap(),
            "device:d:user:u"
        );
    }

    #[test]
    fn context_wins_over_context_keys() {
        let context = json!({"kind": "org", "key": "o"});
        let context_keys = json!({"user": "u"});
        assert_eq!(
            context_key(Some(&context), Some(&context_keys)).unwrap(),
            "org:o"
        );
    }

    #[test]
    fn unusable_contexts_are_errors() {
        assert_eq!(context_key(None, None), Err(ContextError::Missing));
        assert!(key(json!({"kind": "user", "key": ""})).is_err());
        assert!(key(json!({"kind": "user"})).is_err());
        assert!(key(json!("u-5")).is_err());
        assert_eq!(keys(json!({})), Err(ContextError::InvalidContextKeys));
        assert_eq!(
            keys(json!({"user": 5})),
            Err(ContextError::InvalidContextKeys)
        );
        assert_eq!(
            keys(json!({"bad kind": "x"})),
            Err(ContextError::InvalidContextKeys)
        );
        assert_eq!(keys(json!(["u"])), Err(ContextError::InvalidContextKeys));
    }
}
