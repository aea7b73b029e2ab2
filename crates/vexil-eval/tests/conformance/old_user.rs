//! Rewrites an old-style user (no `kind`) as the equivalent `kind: "user"` context JSON (spec 2.4).
//!
//! Written independently of the evaluator's own old-user parsing, so the conformance test checks
//! that both formats give the same results.

use serde_json::{Map, Value};

/// Top-level old-user attributes that keep their name in the new format.
const BUILT_IN_ATTRIBUTES: [&str; 9] = [
    "key",
    "name",
    "anonymous",
    "firstName",
    "lastName",
    "email",
    "country",
    "avatar",
    "ip",
];
/// Names a `custom` entry may not use, because the new format gives them another meaning.
const RESERVED_CUSTOM_NAMES: [&str; 5] = ["kind", "key", "name", "anonymous", "_meta"];

/// The new-format context for an old-style user, or `None` when `context` is not one (not an
/// object, or it has a `kind`). Null values are dropped, since a null attribute is an absent one.
pub fn convert(context: &Value) -> Option<Value> {
    let user = context.as_object()?;
    if user.contains_key("kind") {
        return None;
    }
    let mut converted = Map::new();
    converted.insert("kind".to_owned(), Value::from("user"));
    if let Some(Value::Object(custom)) = user.get("custom") {
        for (name, value) in custom {
            if !RESERVED_CUSTOM_NAMES.contains(&name.as_str()) && !value.is_null() {
                converted.insert(name.clone(), value.clone());
            }
        }
    }
    // Built-ins are written after custom entries, so they win when both use a name.
    for name in BUILT_IN_ATTRIBUTES {
        if let Some(value) = user.get(name).filter(|value| !value.is_null()) {
            converted.insert(name.to_owned(), value.clone());
        }
    }
    if let Some(Value::Array(names)) = user.get("privateAttributeNames") {
        // Old names are literal; a `/` reference with `~0`/`~1` escapes keeps them literal.
        let references: Vec<Value> = names
            .iter()
            .filter_map(Value::as_str)
            .map(|name| Value::from(format!("/{}", name.replace('~', "~0").replace('/', "~1"))))
            .collect();
        if !references.is_empty() {
            let mut meta = Map::new();
            meta.insert("privateAttributes".to_owned(), Value::Array(references));
            converted.insert("_meta".to_owned(), Value::Object(meta));
        }
    }
    Some(Value::Object(converted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_old_users_to_user_contexts() {
        let cases = [
            (json!({ "key": "a" }), json!({ "kind": "user", "key": "a" })),
            (
                json!({
                    "key": "u-5", "email": "a@x.io", "custom": { "plan": "pro" },
                    "privateAttributeNames": ["email"],
                }),
                json!({
                    "kind": "user", "key": "u-5", "email": "a@x.io", "plan": "pro",
                    "_meta": { "privateAttributes": ["/email"] },
                }),
            ),
            (
                json!({
                    "key": "b", "name": "Bo", "anonymous": true, "firstName": "B", "lastName": "O",
                    "country": "NO", "avatar": "http://a", "ip": "10.0.0.1", "secondary": "s",
                    "other": 1,
                }),
                json!({
                    "kind": "user", "key": "b", "name": "Bo", "anonymous": true, "firstName": "B",
                    "lastName": "O", "country": "NO", "avatar": "http://a", "ip": "10.0.0.1",
                }),
            ),
            (
                json!({
                    "key": "c", "name": null, "anonymous": null, "email": null,
                    "custom": { "x": null, "y": [1] },
                }),
                json!({ "kind": "user", "key": "c", "y": [1] }),
            ),
            (
                json!({
                    "key": "d",
                    "custom": {
                        "kind": "org", "key": "k", "name": "n", "anonymous": true, "_meta": {},
                        "ok": false, "email": "custom@x.io",
                    },
                    "email": "builtin@x.io",
                }),
                json!({ "kind": "user", "key": "d", "ok": false, "email": "builtin@x.io" }),
            ),
            (
                json!({ "key": "e", "privateAttributeNames": ["a/b", "c~d", "/e", 3] }),
                json!({
                    "kind": "user", "key": "e",
                    "_meta": { "privateAttributes": ["/a~1b", "/c~0d", "/~1e"] },
                }),
            ),
            (json!({ "key": "" }), json!({ "kind": "user", "key": "" })),
        ];
        for (old, expected) in cases {
            assert_eq!(convert(&old), Some(expected), "{old}");
        }
    }

    #[test]
    fn leaves_new_contexts_and_non_objects_alone() {
        for context in [
            json!({ "kind": "user", "key": "a" }),
            json!({ "kind": "multi" }),
            json!("a"),
            json!(null),
        ] {
            assert_eq!(convert(&context), None, "{context}");
        }
    }
}
