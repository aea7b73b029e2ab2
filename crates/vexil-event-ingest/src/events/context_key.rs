//! The canonical key (spec 2.6) of an event's context, from `context` (a redacted context,
//! spec 6.2) or `contextKeys` (kind -> key): what the event's Kafka record is keyed by.

use std::borrow::Cow;

use serde_json::{Map, Value};
use vexil_eval::Context;

use super::scan::{Json, JsonStr, JsonType};

/// Why an event's context is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("`context` or `contextKeys` is required")]
    Missing,
    #[error("`context` is invalid: {0}")]
    InvalidContext(#[from] vexil_eval::ContextError),
    #[error("`context` could not be read: {0}")]
    Unreadable(String),
    #[error("`contextKeys` must be a non-empty object of kind to key strings")]
    InvalidContextKeys,
}

/// The canonical key of `context`, or else of `contextKeys` (`null` counts as absent).
/// The keys are parsed by `vexil-eval`'s `Context`, the one owner of context validity and
/// canonical keys; only `{"user": "<key>"}`, what server-side SDKs send with most
/// events, is answered here, from the body, without building a context.
/// `context_keys_member` is `contextKeys`' only member when it has exactly one, as the
/// scanner found it while reading the event (`Fields`), so that it is not read again.
pub fn context_key<'a>(
    context: Option<Json<'a>>,
    context_keys: Option<Json<'a>>,
    context_keys_member: Option<(JsonStr<'a>, Json<'a>)>,
) -> Result<Cow<'a, str>, ContextError> {
    // A full context is rare on the hot path: its exact text is handed to serde_json.
    if let Some(context) = context.filter(|context| !context.is(JsonType::Null)) {
        let context: Value = serde_json::from_str(context.get())
            .map_err(|error| ContextError::Unreadable(error.to_string()))?;
        return Ok(Cow::Owned(Context::from_json(&context)?.canonical_key()));
    }
    let keys = match context_keys {
        Some(keys) if keys.is(JsonType::Null) => return Err(ContextError::Missing),
        Some(keys) => keys,
        None => return Err(ContextError::Missing),
    };
    // A single user context's canonical key is its key, unescaped (spec 2.6); an empty
    // key is invalid and is left to `Context` to refuse.
    if let Some((kind, key)) = context_keys_member {
        if kind.unescaped().as_deref() == Some("user") {
            if let Some(key) = key.as_str().filter(|key| !key.is_empty()) {
                return Ok(key);
            }
        }
    }
    let keys = keys.members().ok_or(ContextError::InvalidContextKeys)?;
    if keys.is_empty() {
        return Err(ContextError::InvalidContextKeys);
    }
    let mut multi = Map::with_capacity(keys.len() + 1);
    multi.insert("kind".into(), Value::String("multi".into()));
    for (kind, key) in keys {
        let key = key.as_str().ok_or(ContextError::InvalidContextKeys)?;
        let mut individual = Map::with_capacity(1);
        individual.insert("key".into(), Value::String(key.into_owned()));
        multi.insert(kind.into_owned(), Value::Object(individual));
    }
    Context::from_json(&Value::Object(multi))
        .map(|context| Cow::Owned(context.canonical_key()))
        .map_err(|_| ContextError::InvalidContextKeys)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(context: Value) -> Result<String, ContextError> {
        let text = context.to_string();
        context_key(Some(Json::parse(&text).unwrap()), None, None).map(Cow::into_owned)
    }

    fn keys(context_keys: Value) -> Result<String, ContextError> {
        let text = context_keys.to_string();
        let context_keys = Json::parse(&text).unwrap();
        context_key(None, Some(context_keys), context_keys.single_member()).map(Cow::into_owned)
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
        assert_eq!(keys(json!({"org": "a:b"})).unwrap(), "org:a%3Ab");
    }

    #[test]
    fn a_single_user_key_is_answered_as_vexil_eval_would() {
        for user_key in ["u-5", "a:b%c", "ünï", "with \"quotes\"", " "] {
            let context_keys = json!({ "user": user_key });
            let expected = Context::from_json(&json!({"kind": "user", "key": user_key}))
                .unwrap()
                .canonical_key();
            assert_eq!(keys(context_keys).unwrap(), expected, "{user_key:?}");
        }
        let context_keys = Json::parse(r#"{"user": "u-5"}"#).unwrap();
        assert!(matches!(
            context_key(None, Some(context_keys), context_keys.single_member()),
            Ok(Cow::Borrowed("u-5"))
        ));
    }

    #[test]
    fn context_wins_over_context_keys() {
        let context = Json::parse(r#"{"kind": "org", "key": "o"}"#).unwrap();
        let context_keys = Json::parse(r#"{"user": "u"}"#).unwrap();
        let member = context_keys.single_member();
        assert_eq!(
            context_key(Some(context), Some(context_keys), member).unwrap(),
            "org:o"
        );
        let null = Json::parse("null").unwrap();
        assert_eq!(
            context_key(Some(null), Some(context_keys), member).unwrap(),
            "u",
            "a null context counts as absent"
        );
    }

    #[test]
    fn unusable_contexts_are_errors() {
        assert_eq!(context_key(None, None, None), Err(ContextError::Missing));
        assert!(key(json!({"kind": "user", "key": ""})).is_err());
        assert!(key(json!({"kind": "user"})).is_err());
        assert!(key(json!("u-5")).is_err());
        assert_eq!(keys(json!({})), Err(ContextError::InvalidContextKeys));
        assert_eq!(
            keys(json!({"user": ""})),
            Err(ContextError::InvalidContextKeys)
        );
        assert_eq!(
            keys(json!({"user": 5})),
            Err(ContextError::InvalidContextKeys)
        );
        assert_eq!(
            keys(json!({"bad kind": "x"})),
            Err(ContextError::InvalidContextKeys)
        );
        assert_eq!(keys(json!(["u"])), Err(ContextError::InvalidContextKeys));
        assert_eq!(keys(Value::Null), Err(ContextError::Missing));
    }
}
