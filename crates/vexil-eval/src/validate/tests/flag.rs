//! One flag on its own: key, variations, what it serves, targets, rules, prerequisite keys.

use expect_test::expect;
use serde_json::json;

use super::{check_flag, flag, merge};

#[test]
fn a_valid_flag_has_no_errors() {
    check_flag(flag(json!({})), expect![[""]]);
    check_flag(
        flag(
            json!({"variations": ["only"], "offVariation": null, "samplingRatio": 0,
                    "migration": {"checkRatio": 0}}),
        ),
        expect![[""]],
    );
}

#[test]
fn key_and_variations() {
    check_flag(
        flag(json!({"key": "new checkout"})),
        expect![[r#"
        key: may contain only ASCII letters, digits, '.', '_' and '-', not ' '
    "#]],
    );
    check_flag(
        flag(json!({"key": ""})),
        expect![[r#"
        key: must not be empty
    "#]],
    );
    check_flag(
        flag(json!({"variations": [], "offVariation": null})),
        expect![[r#"
            variations: a flag needs at least one variation
            fallthrough.variation: variation index 0 is out of range: the flag has no variations
        "#]],
    );
    check_flag(
        flag(json!({"offVariation": 2})),
        expect![[r#"
        offVariation: variation index 2 is out of range: the flag has 2 variations
    "#]],
    );
    check_flag(
        flag(json!({"offVariation": -1})),
        expect![[r#"
        offVariation: variation index -1 is out of range: the flag has 2 variations
    "#]],
    );
}

#[test]
fn fallthrough_serves_exactly_one_valid_variation_or_rollout() {
    check_flag(
        flag(json!({"fallthrough": {}})),
        expect![[r#"
        fallthrough: sets neither `variation` nor `rollout`; set exactly one
    "#]],
    );
    check_flag(
        flag(json!({"fallthrough": {"variation": 0,
            "rollout": {"variations": [{"variation": 0, "weight": 100000}]}}})),
        expect![[r#"
            fallthrough: sets both `variation` and `rollout`; set exactly one
        "#]],
    );
    check_flag(
        flag(json!({"fallthrough": {"variation": 2}})),
        expect![[r#"
            fallthrough.variation: variation index 2 is out of range: the flag has 2 variations
        "#]],
    );
}

#[test]
fn rollouts_have_buckets_in_range_adding_up_to_100000() {
    let rollout = |rollout| flag(json!({"fallthrough": {"rollout": rollout}}));
    check_flag(
        rollout(json!({"variations": []})),
        expect![[r#"
        fallthrough.rollout.variations: must not be empty
    "#]],
    );
    check_flag(
        rollout(json!({"variations": [{"variation": 0, "weight": 60000},
                                       {"variation": 5, "weight": 40000}]})),
        expect![[r#"
            fallthrough.rollout.variations[1].variation: variation index 5 is out of range: the flag has 2 variations
        "#]],
    );
    check_flag(
        rollout(json!({"variations": [{"variation": 0, "weight": -1},
                                       {"variation": 1, "weight": 100001}]})),
        expect![[r#"
            fallthrough.rollout.variations[0].weight: must be between 0 and 100000, not -1
            fallthrough.rollout.variations[1].weight: must be between 0 and 100000, not 100001
        "#]],
    );
    check_flag(
        rollout(json!({"variations": [{"variation": 0, "weight": 60000},
                                       {"variation": 1, "weight": 30000}]})),
        expect![[r#"
            fallthrough.rollout.variations: weights add up to 90000; they must add up to 100000
        "#]],
    );
}

#[test]
fn rollout_kind_and_bucket_by() {
    let check = |fields, expected| {
        let rollout = merge(
            json!({"variations": [{"variation": 0, "weight": 100000}]}),
            fields,
        );
        check_flag(flag(json!({"fallthrough": {"rollout": rollout}})), expected);
    };
    // Without a context kind, `bucketBy` is a literal name (spec 1.10): any non-empty string.
    check(json!({"bucketBy": "/a~b"}), expect![[""]]);
    check(json!({"bucketBy": ""}), expect![[""]]);
    check(
        json!({"contextKind": "org", "bucketBy": "/a~b"}),
        expect![[r#"
            fallthrough.rollout.bucketBy: invalid attribute reference "/a~b": '~' must be followed by '0' or '1'
        "#]],
    );
    check(
        json!({"contextKind": "org", "bucketBy": "//"}),
        expect![[r#"
        fallthrough.rollout.bucketBy: invalid attribute reference "//": a path component is empty
    "#]],
    );
    check(
        json!({"contextKind": "multi"}),
        expect![[r#"
        fallthrough.rollout.contextKind: "multi" is not a context kind
    "#]],
    );
    check(
        json!({"kind": "experiment", "contextKind": "", "seed": 7}),
        expect![[r#"
            fallthrough.rollout.contextKind: must not be empty
        "#]],
    );
}

#[test]
fn user_targets() {
    check_flag(
        flag(json!({"targets": [{"values": ["a", ""], "variation": 1},
                                {"values": ["b", "a"], "variation": 1},
                                {"values": ["c"], "variation": 2}]})),
        expect![[r#"
            targets[0].values[1]: must not be empty
            targets[1].variation: targets[0] already lists "user" keys for variation 1
            targets[1].values[1]: "user" key "a" is already targeted at targets[0].values[0]
            targets[2].variation: variation index 2 is out of range: the flag has 2 variations
        "#]],
    );
    check_flag(
        flag(
            json!({"targets": [{"contextKind": "org", "values": ["a"], "variation": 1},
                                {"contextKind": "user", "values": ["b"], "variation": 0}]}),
        ),
        expect![[r#"
            targets[0].contextKind: `targets` holds `user` keys only; put "org" keys in `contextTargets`
        "#]],
    );
}

#[test]
fn context_targets_hold_other_kinds_and_user_placeholders() {
    // Once `contextTargets` is non-empty, `targets` entries need placeholders.
    check_flag(
        flag(json!({"targets": [{"values": ["a"], "variation": 1},
                                {"values": ["b"], "variation": 0}],
                    "contextTargets": [{"contextKind": "org", "values": ["a"], "variation": 1},
                                       {"values": [], "variation": 1}]})),
        expect![[r#"
            targets[1]: evaluation ignores this list: `contextTargets` is not empty but has no `user` placeholder (empty `values`) for variation 0
        "#]],
    );
    check_flag(
        flag(json!({"contextTargets": [
            {"contextKind": "user", "values": ["a"], "variation": 1},
            {"contextKind": "user", "values": [], "variation": 0},
            {"values": [], "variation": 0},
            {"contextKind": "org", "values": ["x"], "variation": 0},
            {"contextKind": "org", "values": ["y", "x"], "variation": 0},
            {"contextKind": "team", "values": ["x", ""], "variation": 3},
            {"contextKind": "kind", "values": ["x"], "variation": 1}]})),
        expect![[r#"
            contextTargets[0].values: `user` keys belong in `targets`; a `user` entry of `contextTargets` is a placeholder with empty `values`
            contextTargets[2].variation: contextTargets[1] already lists "user" keys for variation 0
            contextTargets[4].variation: contextTargets[3] already lists "org" keys for variation 0
            contextTargets[4].values[1]: "org" key "x" is already targeted at contextTargets[3].values[0]
            contextTargets[5].variation: variation index 3 is out of range: the flag has 2 variations
            contextTargets[5].values[1]: must not be empty
            contextTargets[6].contextKind: "kind" is not a context kind
        "#]],
    );
}

#[test]
fn rules_have_unique_ids_and_serve_like_the_fallthrough() {
    check_flag(
        flag(json!({"rules": [
            {"id": "", "variation": 0},
            {"id": "r", "variation": 0},
            {"id": "r", "variation": 0},
            {"id": "s"},
            {"id": "t", "variation": 9},
            {"id": "u", "rollout": {"variations": [{"variation": 1, "weight": 99999}]}}]})),
        expect![[r#"
            rules[0].id: must not be empty
            rules[2].id: rule id "r" is already used by rules[1]
            rules[3]: sets neither `variation` nor `rollout`; set exactly one
            rules[4].variation: variation index 9 is out of range: the flag has 2 variations
            rules[5].rollout.variations: weights add up to 99999; they must add up to 100000
        "#]],
    );
}

#[test]
fn prerequisite_keys_are_well_formed_and_listed_once() {
    check_flag(
        flag(json!({"prerequisites": [
            {"key": "other", "variation": 0},
            {"key": "f", "variation": 0},
            {"key": "other", "variation": 1},
            {"key": "-x", "variation": 0}]})),
        expect![[r#"
            prerequisites[1].key: a flag cannot be its own prerequisite
            prerequisites[2].key: flag "other" is already a prerequisite at prerequisites[0].key
            prerequisites[3].key: must start with a letter or digit, not '-'
        "#]],
    );
}

#[test]
fn ratios_are_not_negative() {
    check_flag(
        flag(json!({"samplingRatio": -1, "migration": {"checkRatio": -5}})),
        expect![[r#"
            samplingRatio: must be 0 or more, not -1
            migration.checkRatio: must be 0 or more, not -5
        "#]],
    );
}
