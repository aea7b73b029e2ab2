//! The context an event is about, from either form SDKs send (spec 6.2): a full (redacted)
//! `context`, single- or multi-kind or an old-style user, or only `contextKeys`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::InvalidEvent;

/// One individual context (one kind) of an event's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Individual {
    pub kind: String,
    pub key: String,
    /// The `name` attribute, when sent and not redacted.
    pub name: Option<String>,
    /// Whether the context said `anonymous: true`; always false for `contextKeys`.
    pub is_anonymous: bool,
}

/// An event's context: its individual contexts sorted by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventContext {
    pub individuals: Vec<Individual>,
    /// Whether it came as a full `context` (anonymity and name known) rather than as
    /// `contextKeys`.
    pub is_full: bool,
}

impl EventContext {
    /// Reads `context` (preferred) or `contextKeys`; `None` when the event has neither.
    pub fn from_fields(
        context: Option<&Value>,
        context_keys: Option<&BTreeMap<String, String>>,
    ) -> Result<Option<EventContext>, InvalidEvent> {
        if let Some(context) = context {
            return full_context(context).map(Some);
        }
        let Some(keys) = context_keys else {
            return Ok(None);
        };
        if keys.is_empty() {
            return Err(InvalidEvent::new("`contextKeys` is empty"));
        }
        let individuals = keys
            .iter()
            .map(|(kind, key)| Individual {
                kind: kind.clone(),
                key: key.clone(),
                name: None,
                is_anonymous: false,
            })
            .collect();
        Ok(Some(EventContext {
            individuals,
            is_full: false,
        }))
    }

    /// The canonical ("fully qualified") key of spec 2.6: the key alone for a single
    /// `user`, else `kind:escaped key` per kind, sorted by kind, joined with `:`.
    pub fn canonical_key(&self) -> String {
        match self.individuals.as_slice() {
            [single] if single.kind == "user" => single.key.clone(),
            [single] => format!("{}:{}", single.kind, escape(&single.key)),
            many => many
                .iter()
                .map(|individual| format!("{}:{}", individual.kind, escape(&individual.key)))
                .collect::<Vec<_>>()
                .join(":"),
        }
    }
}

fn escape(key: &str) -> String {
    key.replace('%', "%25").replace(':', "%3A")
}

fn full_context(context: &Value) -> Result<EventContext, InvalidEvent> {
    let object = context
        .as_object()
        .ok_or_else(|| InvalidEvent::new("`context` is not an object"))?;
    let mut individuals = match object.get("kind") {
        // An old-style user (spec 2.4): no kind, attributes at the top level.
        None => vec![individual("user", object)?],
        Some(Value::String(kind)) if kind == "multi" => object
            .iter()
            .filter(|(name, _)| name.as_str() != "kind" && name.as_str() != "_meta")
            .map(|(kind, value)| {
                let nested = value.as_object().ok_or_else(|| {
                    InvalidEvent::new(format!("`context.{kind}` is not an object"))
                })?;
                individual(kind, nested)
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(Value::String(kind)) => vec![individual(kind, object)?],
        Some(_) => return Err(InvalidEvent::new("`context.kind` is not a string")),
    };
    if individuals.is_empty() {
        return Err(InvalidEvent::new("multi-kind `context` has no kinds"));
    }
    individuals.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(EventContext {
        individuals,
        is_full: true,
    })
}

fn individual(kind: &str, object: &Map<String, Value>) -> Result<Individual, InvalidEvent> {
    let key = match object.get("key") {
        Some(Value::String(key)) => key.clone(),
        _ => {
            return Err(InvalidEvent::new(format!(
                "`{kind}` context has no string key"
            )))
        }
    };
    Ok(Individual {
        kind: kind.to_owned(),
        key,
        name: object
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        is_anonymous: object.get("anonymous").and_then(Value::as_bool) == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn canonical(context: Value) -> String {
        EventContext::from_fields(Some(&context), None)
            .unwrap()
            .unwrap()
            .canonical_key()
    }

    #[test]
    fn canonical_keys_follow_spec_2_6() {
        assert_eq!(canonical(json!({"kind": "user", "key": "u:1"})), "u:1");
        assert_eq!(canonical(json!({"key": "legacy"})), "legacy");
        assert_eq!(
            canonical(json!({"kind": "org", "key": "a:b%"})),
            "org:a%3Ab%25"
        );
        assert_eq!(
            canonical(json!({"kind": "multi", "user": {"key": "u"}, "device": {"key": "d"}})),
            "device:d:user:u"
        );
        let keys = BTreeMap::from([("user".to_owned(), "u".to_owned())]);
        let from_keys = EventContext::from_fields(None, Some(&keys))
            .unwrap()
            .unwrap();
        assert_eq!(from_keys.canonical_key(), "u");
        assert!(!from_keys.is_full);
    }

    #[test]
    fn names_and_anonymity_are_read_per_kind() {
        let context = json!({"kind": "multi",
            "user": {"key": "u", "name": "Ann", "anonymous": true},
            "org": {"key": "o", "name": "Acme"}});
        let parsed = EventContext::from_fields(Some(&context), None)
            .unwrap()
            .unwrap();
        assert_eq!(
            parsed.individuals,
            [
                Individual {
                    kind: "org".into(),
                    key: "o".into(),
                    name: Some("Acme".into()),
                    is_anonymous: false
                },
                Individual {
                    kind: "user".into(),
                    key: "u".into(),
                    name: Some("Ann".into()),
                    is_anonymous: true
                },
            ]
        );
    }

    #[test]
    fn contexts_without_keys_are_invalid() {
        for context in [
            json!("u"),
            json!({"kind": "user"}),
            json!({"kind": "multi"}),
            json!({"kind": 3, "key": "k"}),
        ] {
            assert!(
                EventContext::from_fields(Some(&context), None).is_err(),
                "{context}"
            );
        }
    }
}
