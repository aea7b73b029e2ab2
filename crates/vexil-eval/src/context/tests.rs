//! Tests for `context`: the two JSON formats, validity rules, lookup and canonical keys.

use serde_json::{json, Value};

use super::{Context, ContextError};
use crate::attribute_ref::AttributeRef;

fn parse(value: Value) -> Context {
    Context::from_json(&value).unwrap()
}

#[test]
fn single_kind_context_exposes_builtin_and_custom_attributes() {
    let context = parse(
        json!({"kind": "org", "key": "acme-42", "name": "Acme", "tier": "gold",
        "address": {"city": "Oslo"}, "gone": null, "_meta": {"privateAttributes": ["tier"]}}),
    );
    let org = context.individual("org").unwrap();
    let get = |reference: &str| org.get(&AttributeRef::parse(reference)).cloned();
    assert_eq!(get("kind"), Some(json!("org")));
    assert_eq!(get("key"), Some(json!("acme-42")));
    assert_eq!(get("name"), Some(json!("Acme")));
    assert_eq!(get("anonymous"), Some(json!(false)));
    assert_eq!(get("/address/city"), Some(json!("Oslo")));
    assert_eq!(get("/address/city/x"), None);
    assert_eq!(get("gone"), None);
    assert_eq!(get("_meta"), None);
    assert_eq!(org.private_attributes(), &[AttributeRef::parse("tier")]);
}

#[test]
fn invalid_contexts_are_rejected_with_the_reason() {
    let cases = [
        (json!("x"), ContextError::NotAnObject),
        (
            json!({"kind": "user"}),
            ContextError::MissingKey {
                kind: "user".into(),
            },
        ),
        (
            json!({"kind": "user", "key": ""}),
            ContextError::MissingKey {
                kind: "user".into(),
            },
        ),
        (
            json!({"kind": "user", "key": 3}),
            ContextError::MissingKey {
                kind: "user".into(),
            },
        ),
        (
            json!({"kind": "kind", "key": "k"}),
            ContextError::InvalidKind("kind".into()),
        ),
        (
            json!({"kind": "", "key": "k"}),
            ContextError::InvalidKind("".into()),
        ),
        (
            json!({"kind": "a b", "key": "k"}),
            ContextError::InvalidKind("a b".into()),
        ),
        (json!({"kind": 1, "key": "k"}), ContextError::KindNotString),
        (json!({"kind": "multi"}), ContextError::EmptyMulti),
        (
            json!({"kind": "multi", "org": {"key": ""}}),
            ContextError::MissingKey { kind: "org".into() },
        ),
        (
            json!({"kind": "multi", "multi": {"key": "k"}}),
            ContextError::InvalidKind("multi".into()),
        ),
        (
            json!({"kind": "user", "key": "k", "name": 3}),
            ContextError::WrongType {
                attribute: "name".into(),
                expected: "a string or null",
            },
        ),
        (
            json!({"key": null}),
            ContextError::MissingKey {
                kind: "user".into(),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(Context::from_json(&input), Err(expected), "{input}");
    }
}

#[test]
fn old_style_users_become_user_contexts() {
    let context = parse(
        json!({"key": "u-5", "email": "a@x.io", "secondary": "s", "ip": null,
        "custom": {"plan": "pro", "kind": "dropped", "n": null}, "privateAttributeNames": ["email"]}),
    );
    let expected = parse(json!({"kind": "user", "key": "u-5", "email": "a@x.io", "plan": "pro"}));
    let user = context.individual("user").unwrap();
    assert_eq!(
        user.custom_attributes(),
        expected.individual("user").unwrap().custom_attributes()
    );
    assert_eq!(user.secondary(), Some("s"));
    assert_eq!(user.private_attributes(), &[AttributeRef::literal("email")]);
    // An old-style user may have an empty key.
    assert_eq!(
        parse(json!({"key": ""})).individual("user").unwrap().key(),
        ""
    );
}

#[test]
fn multi_kind_contexts_are_sorted_and_one_kind_is_single() {
    let context = parse(json!({"kind": "multi", "user": {"key": "u"}, "device": {"key": "d"}}));
    assert!(context.is_multi());
    let kinds: Vec<&str> = context.individuals().iter().map(|i| i.kind()).collect();
    assert_eq!(kinds, ["device", "user"]);
    let one = parse(json!({"kind": "multi", "org": {"key": "o"}}));
    assert!(!one.is_multi());
    assert_eq!(one, parse(json!({"kind": "org", "key": "o"})));
}

#[test]
fn canonical_keys_follow_spec_2_6() {
    assert_eq!(
        parse(json!({"kind": "user", "key": "a:b"})).canonical_key(),
        "a:b"
    );
    assert_eq!(
        parse(json!({"kind": "org", "key": "a:b%c"})).canonical_key(),
        "org:a%3Ab%25c"
    );
    let multi = parse(json!({"kind": "multi", "user": {"key": "u"}, "device": {"key": "d:1"}}));
    assert_eq!(multi.canonical_key(), "device:d%3A1:user:u");
}
