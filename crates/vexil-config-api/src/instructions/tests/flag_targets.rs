//! addTargets, removeTargets, replaceTargets: `targets`, `contextTargets` and placeholders.

use expect_test::expect;
use serde_json::json;

use super::{check_flag, flag};

#[test]
fn user_keys_go_to_targets_with_a_placeholder() {
    check_flag(
        flag(json!({})),
        json!([{"kind": "addTargets", "variation": 1, "values": ["u1", "u2", "u1"]}]),
        expect![[r#"
            targets: [{"values":["u1","u2"],"variation":1}]
            contextTargets: [{"contextKind":"user","values":[],"variation":1}]
        "#]],
    );
    // An explicit `user` kind is the same as none.
    check_flag(
        flag(json!({})),
        json!([{"kind": "addTargets", "contextKind": "user", "variation": 1, "values": ["u1"]}]),
        expect![[r#"
            targets: [{"values":["u1"],"variation":1}]
            contextTargets: [{"contextKind":"user","values":[],"variation":1}]
        "#]],
    );
}

#[test]
fn other_kinds_go_to_context_targets() {
    check_flag(
        flag(json!({
            "targets": [{"values": ["u1"], "variation": 1}],
            "contextTargets": [{"contextKind": "user", "values": [], "variation": 1}]
        })),
        json!([
            {"kind": "addTargets", "contextKind": "team", "variation": 2, "values": ["qa"]},
            {"kind": "addTargets", "contextKind": "team", "variation": 2, "values": ["ops"]},
            {"kind": "addTargets", "variation": 1, "values": ["u2"]}
        ]),
        expect![[r#"
            targets: [{"values":["u1","u2"],"variation":1}]
            contextTargets: [{"contextKind":"user","values":[],"variation":1},{"contextKind":"team","values":["qa","ops"],"variation":2}]
        "#]],
    );
}

#[test]
fn legacy_user_targets_get_placeholders_ahead_of_new_lists() {
    // Without `contextTargets` the user lists are evaluated first; they stay first.
    check_flag(
        flag(json!({"targets": [{"values": ["u1"], "variation": 0}]})),
        json!([{"kind": "addTargets", "contextKind": "team", "variation": 1, "values": ["qa"]}]),
        expect![[r#"
            contextTargets: [{"contextKind":"user","values":[],"variation":0},{"contextKind":"team","values":["qa"],"variation":1}]
        "#]],
    );
}

#[test]
fn a_placeholder_without_a_kind_counts() {
    check_flag(
        flag(json!({
            "targets": [{"values": ["u1"], "variation": 1}],
            "contextTargets": [{"values": [], "variation": 1}]
        })),
        json!([{"kind": "addTargets", "variation": 1, "values": ["u2"]}]),
        expect![[r#"
            targets: [{"values":["u1","u2"],"variation":1}]
        "#]],
    );
}

#[test]
fn adding_an_already_targeted_key() {
    let targeted = flag(json!({
        "targets": [{"values": ["u1"], "variation": 1}],
        "contextTargets": [{"contextKind": "user", "values": [], "variation": 1},
                           {"contextKind": "team", "values": ["qa"], "variation": 0}]
    }));
    check_flag(
        targeted.clone(),
        json!([{"kind": "addTargets", "variation": 1, "values": ["u1"]}]),
        expect![[r#"
            no change
        "#]],
    );
    check_flag(
        targeted.clone(),
        json!([{"kind": "addTargets", "variation": 2, "values": ["u0", "u1"]}]),
        expect![[r#"
            error: instructions[0] (addTargets): user key `u1` is already targeted to variation 1; remove it from there first (removeTargets, in the same patch)
        "#]],
    );
    // The same key of another kind is another context.
    check_flag(
        targeted.clone(),
        json!([{"kind": "addTargets", "contextKind": "org", "variation": 2, "values": ["u1", "qa"]}]),
        expect![[r#"
            contextTargets: [{"contextKind":"user","values":[],"variation":1},{"contextKind":"team","values":["qa"],"variation":0},{"contextKind":"org","values":["u1","qa"],"variation":2}]
        "#]],
    );
    // Moving a key is removing it and adding it, in one patch.
    check_flag(
        targeted,
        json!([
            {"kind": "removeTargets", "contextKind": "team", "variation": 0, "values": ["qa"]},
            {"kind": "addTargets", "contextKind": "team", "variation": 2, "values": ["qa"]}
        ]),
        expect![[r#"
            contextTargets: [{"contextKind":"user","values":[],"variation":1},{"contextKind":"team","values":["qa"],"variation":2}]
        "#]],
    );
}

#[test]
fn add_targets_errors() {
    check_flag(
        flag(json!({})),
        json!([{"kind": "addTargets", "variation": 3, "values": ["u1"]}]),
        expect![[r#"
            error: instructions[0] (addTargets): variation 3 is out of range: the flag has 3 variations
        "#]],
    );
    check_flag(
        flag(json!({})),
        json!([{"kind": "addTargets", "variation": 0, "values": []}]),
        expect![[r#"
            error: instructions[0] (addTargets): `values` must not be empty
        "#]],
    );
}

#[test]
fn removing_the_last_key_drops_the_list_and_its_placeholder() {
    let targeted = flag(json!({
        "targets": [{"values": ["u1", "u2"], "variation": 1}, {"values": ["u3"], "variation": 2}],
        "contextTargets": [{"contextKind": "user", "values": [], "variation": 1},
                           {"contextKind": "team", "values": ["qa"], "variation": 0},
                           {"contextKind": "user", "values": [], "variation": 2}]
    }));
    check_flag(
        targeted.clone(),
        json!([{"kind": "removeTargets", "variation": 1, "values": ["u2"]}]),
        expect![[r#"
            targets: [{"values":["u1"],"variation":1},{"values":["u3"],"variation":2}]
        "#]],
    );
    check_flag(
        targeted.clone(),
        json!([{"kind": "removeTargets", "contextKind": "user", "variation": 1, "values": ["u2", "u1"]}]),
        expect![[r#"
            targets: [{"values":["u3"],"variation":2}]
            contextTargets: [{"contextKind":"team","values":["qa"],"variation":0},{"contextKind":"user","values":[],"variation":2}]
        "#]],
    );
    check_flag(
        targeted,
        json!([{"kind": "removeTargets", "contextKind": "team", "variation": 0, "values": ["qa"]}]),
        expect![[r#"
            contextTargets: [{"contextKind":"user","values":[],"variation":1},{"contextKind":"user","values":[],"variation":2}]
        "#]],
    );
}

#[test]
fn removing_a_key_that_is_not_there_is_an_error() {
    let targeted = flag(json!({
        "targets": [{"values": ["u1"], "variation": 1}],
        "contextTargets": [{"contextKind": "user", "values": [], "variation": 1},
                           {"contextKind": "team", "values": ["qa"], "variation": 0}]
    }));
    check_flag(
        targeted.clone(),
        json!([{"kind": "removeTargets", "variation": 1, "values": ["u1", "nobody"]}]),
        expect![[r#"
            error: instructions[0] (removeTargets): user key `nobody` is not targeted to variation 1
        "#]],
    );
    check_flag(
        targeted.clone(),
        json!([{"kind": "removeTargets", "variation": 0, "values": ["u1"]}]),
        expect![[r#"
            error: instructions[0] (removeTargets): user key `u1` is not targeted to variation 0 (it is targeted to variation 1)
        "#]],
    );
    // `qa` is a team key, not a user key.
    check_flag(
        targeted.clone(),
        json!([{"kind": "removeTargets", "variation": 0, "values": ["qa"]}]),
        expect![[r#"
            error: instructions[0] (removeTargets): user key `qa` is not targeted to variation 0
        "#]],
    );
    check_flag(
        targeted,
        json!([{"kind": "removeTargets", "variation": 5, "values": ["u1"]}]),
        expect![[r#"
            error: instructions[0] (removeTargets): variation 5 is out of range: the flag has 3 variations
        "#]],
    );
}

#[test]
fn replace_targets() {
    let targeted = flag(json!({
        "targets": [{"values": ["u1"], "variation": 1}],
        "contextTargets": [{"contextKind": "user", "values": [], "variation": 1},
                           {"contextKind": "team", "values": ["qa"], "variation": 0}]
    }));
    check_flag(
        targeted.clone(),
        json!([{"kind": "replaceTargets", "targets": [
            {"contextKind": "team", "variation": 2, "values": ["ops"]},
            {"variation": 0, "values": ["u9"]}
        ]}]),
        expect![[r#"
            targets: [{"values":["u9"],"variation":0}]
            contextTargets: [{"contextKind":"team","values":["ops"],"variation":2},{"contextKind":"user","values":[],"variation":0}]
        "#]],
    );
    check_flag(
        targeted.clone(),
        json!([{"kind": "replaceTargets", "targets": []}]),
        expect![[r#"
            targets: []
            contextTargets: []
        "#]],
    );
    check_flag(
        targeted,
        json!([{"kind": "replaceTargets", "targets": [
            {"variation": 0, "values": ["u9"]},
            {"contextKind": "user", "variation": 1, "values": ["u9"]}
        ]}]),
        expect![[r#"
            error: instructions[0] (replaceTargets): targets[1]: user key `u9` is listed twice
        "#]],
    );
}
