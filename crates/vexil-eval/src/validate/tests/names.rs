//! Keys and context kinds.

use expect_test::expect;
use serde_json::json;

use crate::validate::{validate_context_kind, validate_key, MAX_KEY_LENGTH};
use crate::Context;

/// Each input with its verdict, one per line.
fn verdicts(inputs: &[&str], validate: fn(&str) -> Result<(), String>) -> String {
    inputs
        .iter()
        .map(|input| match validate(input) {
            Ok(()) => format!("{input:?}: ok\n"),
            Err(reason) => format!("{input:?}: {reason}\n"),
        })
        .collect()
}

#[test]
fn keys_follow_launchdarkly_format() {
    let longest = "k".repeat(MAX_KEY_LENGTH);
    let too_long = "k".repeat(MAX_KEY_LENGTH + 1);
    let inputs = [
        "new-checkout",
        "a",
        "0.9_x-Y",
        &longest,
        "",
        &too_long,
        "-leading-dash",
        ".hidden",
        "_private",
        "has space",
        "slash/key",
        "ünïcode",
    ];
    let shown = verdicts(&inputs, validate_key)
        .replace(&too_long, "<257 x k>")
        .replace(&longest, "<256 x k>");
    expect![[r#"
        "new-checkout": ok
        "a": ok
        "0.9_x-Y": ok
        "<256 x k>": ok
        "": must not be empty
        "<257 x k>": must be at most 256 characters long, not 257
        "-leading-dash": must start with a letter or digit, not '-'
        ".hidden": must start with a letter or digit, not '.'
        "_private": must start with a letter or digit, not '_'
        "has space": may contain only ASCII letters, digits, '.', '_' and '-', not ' '
        "slash/key": may contain only ASCII letters, digits, '.', '_' and '-', not '/'
        "ünïcode": may contain only ASCII letters, digits, '.', '_' and '-', not 'ü'
    "#]]
    .assert_eq(&shown);
}

#[test]
fn context_kinds_follow_the_context_rule() {
    let inputs = [
        "user",
        "org",
        "a.b_c-D9",
        "",
        "kind",
        "multi",
        "has space",
        "a/b",
        "ké",
    ];
    expect![[r#"
        "user": ok
        "org": ok
        "a.b_c-D9": ok
        "": must not be empty
        "kind": "kind" is not a context kind
        "multi": "multi" is not a context kind
        "has space": may contain only ASCII letters, digits, '.', '_' and '-', not ' '
        "a/b": may contain only ASCII letters, digits, '.', '_' and '-', not '/'
        "ké": may contain only ASCII letters, digits, '.', '_' and '-', not 'é'
    "#]]
    .assert_eq(&verdicts(&inputs, validate_context_kind));
    // A kind valid here is exactly a kind a context may have.
    for kind in inputs {
        let context = Context::from_json(&json!({"kind": kind, "key": "k"}));
        assert_eq!(
            validate_context_kind(kind).is_ok(),
            context.is_ok(),
            "{kind:?}"
        );
    }
}
