//! One segment on its own.

use expect_test::expect;
use serde_json::json;

use super::{check_segment, segment};

#[test]
fn a_valid_segment_has_no_errors() {
    check_segment(segment(json!({})), expect![[""]]);
    check_segment(
        segment(json!({
            "included": ["a"], "excluded": ["a", "b"],
            "includedContexts": [{"contextKind": "org", "values": ["x"]}],
            "excludedContexts": [{"contextKind": "team", "values": []}],
            "rules": [
                {"id": "", "clauses": [], "weight": 0},
                {"id": "", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"]}],
                 "weight": 100000, "bucketBy": "/not~a~reference"},
                {"id": "r", "clauses": [], "rolloutContextKind": "org", "bucketBy": "/org/id"}],
            "unbounded": true, "unboundedContextKind": "org", "generation": 2})),
        expect![[""]],
    );
}

#[test]
fn key_and_user_keys() {
    check_segment(
        segment(json!({"key": "beta testers", "included": ["a", ""], "excluded": [""]})),
        expect![[r#"
            key: may contain only ASCII letters, digits, '.', '_' and '-', not ' '
            included[1]: must not be empty
            excluded[0]: must not be empty
        "#]],
    );
}

#[test]
fn context_lists_hold_other_kinds() {
    check_segment(
        segment(json!({
            "includedContexts": [{"contextKind": "user", "values": ["a"]},
                                 {"contextKind": "", "values": ["b"]}],
            "excludedContexts": [{"contextKind": "multi", "values": ["c", ""]}]})),
        expect![[r#"
            includedContexts[0].contextKind: `user` keys belong in `included`; SDKs disagree about `user` entries in `includedContexts`
            includedContexts[1].contextKind: `user` keys belong in `included`; SDKs disagree about `user` entries in `includedContexts`
            excludedContexts[0].contextKind: "multi" is not a context kind
            excludedContexts[0].values[1]: must not be empty
        "#]],
    );
}

#[test]
fn rules() {
    check_segment(
        segment(json!({"rules": [
            {"id": "r", "clauses": [{"attribute": "", "op": "in", "values": ["a"]}]},
            {"id": "r", "clauses": [], "weight": 100001},
            {"clauses": [], "weight": -1, "rolloutContextKind": "kind"},
            {"clauses": [], "rolloutContextKind": "org", "bucketBy": "/a~"},
            {"clauses": [{"op": "segmentMatch", "values": ["s", "other"]}]}]})),
        expect![[r#"
            rules[0].clauses[0].attribute: must not be empty
            rules[1].id: rule id "r" is already used by rules[0]
            rules[1].weight: must be between 0 and 100000, not 100001
            rules[2].weight: must be between 0 and 100000, not -1
            rules[2].rolloutContextKind: "kind" is not a context kind
            rules[3].bucketBy: invalid attribute reference "/a~": '~' must be followed by '0' or '1'
            rules[4].clauses[0].values[0]: a segment cannot match itself
        "#]],
    );
}

#[test]
fn unbounded_context_kind() {
    check_segment(
        segment(json!({"unbounded": true, "unboundedContextKind": ""})),
        expect![[r#"
            unboundedContextKind: must not be empty
        "#]],
    );
}
