//! Tests for evaluation ETags: normalisation (properties), sensitivity, `If-None-Match`.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::json;

use super::*;

fn etag(context: Value) -> String {
    evaluation_etag(
        1043,
        FlagVisibility::AllFlags,
        &Context::from_json(&context).unwrap(),
    )
}

/// JSON text of `members` in the given order (serde_json might sort or keep order on parsing;
/// the text is what a client sends).
fn object_text(members: &[(String, String)]) -> String {
    let members: Vec<String> = members
        .iter()
        .map(|(name, value)| format!("{}:{value}", Value::from(name.as_str())))
        .collect();
    format!("{{{}}}", members.join(","))
}

/// An attribute value: scalars, arrays and objects, three levels deep.
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "[a-z ]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// Custom attributes of an individual context (no built-in names).
fn any_attributes() -> impl Strategy<Value = Vec<(String, Value)>> {
    btree_map("[a-z]{1,4}", any_value(), 0..5).prop_map(|attributes| {
        attributes
            .into_iter()
            .filter(|(name, _)| !matches!(name.as_str(), "kind" | "key" | "name"))
            .collect()
    })
}

/// Writes `value` with the members of every object in reverse order.
fn reversed_text(value: &Value) -> String {
    match value {
        Value::Object(members) => {
            let mut members: Vec<(String, String)> = members
                .iter()
                .map(|(name, value)| (name.clone(), reversed_text(value)))
                .collect();
            members.reverse();
            object_text(&members)
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(reversed_text).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}

proptest! {
    #[test]
    fn member_order_does_not_change_the_etag(
        key in "[a-z0-9]{1,6}",
        attributes in any_attributes(),
        org_attributes in any_attributes(),
    ) {
        let user: Value = json!({"key": key, "name": "n", "_meta": {"privateAttributes": ["b", "/a"]}})
            .as_object().unwrap().clone().into_iter().chain(attributes.clone()).collect();
        let org: Value = json!({"key": "acme"})
            .as_object().unwrap().clone().into_iter().chain(org_attributes).collect();
        let multi = json!({"kind": "multi", "user": user, "org": org});
        let reordered: Value = serde_json::from_str(&reversed_text(&multi)).unwrap();
        prop_assert_eq!(etag(multi.clone()), etag(reordered));
        // The private attribute list is a set.
        let mut swapped = multi.clone();
        swapped["user"]["_meta"]["privateAttributes"] = json!(["/a", "b", "b"]);
        prop_assert_eq!(etag(multi), etag(swapped));
    }

    #[test]
    fn different_contexts_have_different_etags(
        a in any_attributes(),
        b in any_attributes(),
        key_a in "[a-c]{1,2}",
        key_b in "[a-c]{1,2}",
    ) {
        let context = |key: &str, attributes: &[(String, Value)]| {
            let mut object = json!({"kind": "user", "key": key});
            for (name, value) in attributes {
                object[name] = value.clone();
            }
            object
        };
        let (a, b) = (context(&key_a, &a), context(&key_b, &b));
        let same = Context::from_json(&a).unwrap() == Context::from_json(&b).unwrap();
        prop_assert_eq!(etag(a) == etag(b), same);
    }
}

#[test]
fn every_part_of_the_context_counts() {
    let base = etag(json!({"kind": "user", "key": "u"}));
    let variants = [
        json!({"kind": "org", "key": "u"}),
        json!({"kind": "user", "key": "v"}),
        json!({"kind": "user", "key": "u", "name": "n"}),
        json!({"kind": "user", "key": "u", "anonymous": true}),
        json!({"kind": "user", "key": "u", "a": null, "b": 1}),
        json!({"kind": "user", "key": "u", "_meta": {"privateAttributes": ["x"]}}),
        json!({"kind": "multi", "user": {"key": "u"}, "org": {"key": "u"}}),
        json!({"key": "u", "secondary": "s"}),
    ];
    for variant in variants {
        assert_ne!(etag(variant.clone()), base, "{variant}");
    }
    // Equivalent forms of the same context.
    for same in [
        json!({"kind": "user", "key": "u", "anonymous": false, "name": null, "a": null}),
        json!({"kind": "multi", "user": {"key": "u"}}),
        json!({"key": "u"}),
    ] {
        assert_eq!(etag(same.clone()), base, "{same}");
    }
}

#[test]
fn revision_and_visibility_count() {
    let context = Context::new("user", "u").unwrap();
    let base = evaluation_etag(1, FlagVisibility::AllFlags, &context);
    assert_ne!(evaluation_etag(2, FlagVisibility::AllFlags, &context), base);
    assert_ne!(
        evaluation_etag(1, FlagVisibility::MobileKey, &context),
        base
    );
    assert_ne!(
        evaluation_etag(1, FlagVisibility::MobileKey, &context),
        evaluation_etag(1, FlagVisibility::ClientSideId, &context)
    );
    assert_eq!(evaluation_etag(1, FlagVisibility::AllFlags, &context), base);
    // A strong, quoted, opaque validator.
    assert_eq!(base.len(), 34);
    assert!(base.starts_with('"') && base.ends_with('"'), "{base}");
}

#[test]
fn if_none_match_accepts_lists_wildcards_and_weak_validators() {
    let etag = r#""abc""#;
    for header in [
        r#""abc""#,
        r#""x", "abc""#,
        r#"W/"abc""#,
        "*",
        r#" "x" ,"abc" "#,
    ] {
        assert!(if_none_match_matches(header, etag), "{header}");
    }
    for header in [r#""abcd""#, "abc", "", r#""x", "y""#] {
        assert!(!if_none_match_matches(header, etag), "{header}");
    }
}
