//! The explanation of each kind of reason, evaluated with the real evaluator on small flag data.

use expect_test::{expect, Expect};
use serde_json::{json, Value};
use vexil_eval::{variation_detail, Context, FlagData, ValueType};

use super::{explain, Evaluation};

/// Flags for every reason; `flags.json` of the integration tests is a smaller sibling.
fn data() -> FlagData {
    let data = json!({
        "flags": {
            "checkout": {
                "on": true, "salt": "s", "variations": [false, true], "offVariation": 0,
                "fallthrough": {"variation": 0},
                "targets": [{"values": ["u-1"], "variation": 1}],
                "contextTargets": [
                    {"contextKind": "user", "values": [], "variation": 1},
                    {"contextKind": "org", "values": ["o-1"], "variation": 1}
                ],
                "rules": [
                    {"id": "r-beta", "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["beta", "alpha"]}], "variation": 1},
                    {"id": "", "clauses": [{"contextKind": "org", "attribute": "tier", "op": "in", "values": ["gold"], "negate": true}], "variation": 0},
                    {"id": "r-eu", "clauses": [
                        {"attribute": "country", "op": "in", "values": ["de", "fr"]},
                        {"attribute": "plan", "op": "in", "values": ["pro"], "negate": true}
                    ], "variation": 1}
                ]
            },
            "rollout": {
                "on": true, "salt": "s", "variations": ["a", "b"],
                "fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 0}, {"variation": 1, "weight": 100000}]}},
                "rules": [{"id": "r-de", "clauses": [{"attribute": "country", "op": "in", "values": ["de"]}], "rollout": {
                    "kind": "experiment", "bucketBy": "country",
                    "variations": [{"variation": 0, "weight": 33333}, {"variation": 1, "weight": 66667}]
                }}]
            },
            "everyone": {"on": true, "variations": [1, 2], "rules": [{"id": "r-all", "clauses": [], "variation": 0}]},
            "off": {"on": false, "variations": ["x", "y"], "offVariation": 1},
            "off-without-variation": {"on": false, "variations": ["x", "y"]},
            "payments": {
                "on": true, "variations": [false, true], "offVariation": 0, "fallthrough": {"variation": 1},
                "prerequisites": [{"key": "payments-enabled", "variation": 0}]
            },
            "payments-enabled": {"on": true, "variations": [true, false], "fallthrough": {"variation": 1}},
            "needs-off": {
                "on": true, "variations": [1, 2], "offVariation": 0, "fallthrough": {"variation": 1},
                "prerequisites": [{"key": "off", "variation": 1}]
            },
            "needs-missing": {
                "on": true, "variations": [1, 2], "offVariation": 0, "fallthrough": {"variation": 1},
                "prerequisites": [{"key": "nowhere", "variation": 0}]
            },
            "broken": {"on": true, "variations": [1], "fallthrough": {"variation": 5}}
        },
        "segments": {
            "beta": {"included": ["u-beta"], "salt": "b"},
            "alpha": {"salt": "a"}
        }
    });
    FlagData::from_json(&data.to_string()).unwrap()
}

#[track_caller]
fn check(flag_key: &str, context: Value, value_type: ValueType, expected: Expect) {
    let data = data();
    let context = Context::from_json(&context);
    let default = json!("default");
    let detail = variation_detail(&data, flag_key, context.as_ref().ok(), &default, value_type);
    let evaluation = Evaluation {
        store: &data,
        flag_key,
        context: context.as_ref(),
        value_type,
        detail: &detail,
    };
    expected.assert_eq(&explain(&evaluation));
}

#[test]
fn off() {
    check(
        "off",
        json!({"key": "u"}),
        ValueType::Any,
        expect![[r#"off: serving off variation 1"#]],
    );
    check(
        "off-without-variation",
        json!({"key": "u"}),
        ValueType::Any,
        expect![[r#"off: the flag has no off variation, so the default is served"#]],
    );
}

#[test]
fn targets() {
    check(
        "checkout",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[r#"target match: key u-1 is in the targets of variation 1"#]],
    );
    check(
        "checkout",
        json!({"kind": "org", "key": "o-1"}),
        ValueType::Any,
        expect![[r#"target match: org key o-1 is in the targets of variation 1"#]],
    );
}

#[test]
fn rules() {
    check(
        "checkout",
        json!({"key": "u-beta"}),
        ValueType::Any,
        expect![[r#"rule 0 (id r-beta) matched: in segment "beta" or "alpha""#]],
    );
    check(
        "checkout",
        json!({"kind": "org", "key": "o-2", "tier": "silver"}),
        ValueType::Any,
        expect![[r#"rule 1 matched: org:tier not in ["gold"]"#]],
    );
    check(
        "checkout",
        json!({"kind": "user", "key": "u-2", "country": "de", "plan": "free"}),
        ValueType::Any,
        expect![[r#"rule 2 (id r-eu) matched: country in ["de","fr"] and plan not in ["pro"]"#]],
    );
}

#[test]
fn rollouts() {
    check(
        "rollout",
        json!({"kind": "user", "key": "u-1", "country": "de"}),
        ValueType::Any,
        expect![[
            r#"rule 0 (id r-de) matched: country in ["de"]; experiment by user key, bucket of variation 0 (variation 0: 33.333%, variation 1: 66.667%), in experiment"#
        ]],
    );
    check("rollout", json!({"key": "u-1"}), ValueType::Any, expect!["fallthrough: rollout by user key, bucket of variation 1 (variation 0: 0%, variation 1: 100%)"]);
}

#[test]
fn rule_without_clauses() {
    check(
        "everyone",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect!["rule 0 (id r-all) matched: it has no clauses, so every context matches"],
    );
}

#[test]
fn fallthrough() {
    check(
        "checkout",
        json!({"key": "u-9"}),
        ValueType::Any,
        expect![[r#"fallthrough: variation 0"#]],
    );
}

#[test]
fn prerequisites() {
    check(
        "payments",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[
            r#"prerequisite payments-enabled failed: it served variation 1, not variation 0; serving off variation 0"#
        ]],
    );
    check(
        "needs-off",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[
            r#"prerequisite off failed: it is off (it must be on and serve variation 1); serving off variation 0"#
        ]],
    );
    check(
        "needs-missing",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[r#"prerequisite nowhere failed: there is no such flag; serving off variation 0"#]],
    );
}

#[test]
fn errors() {
    check(
        "checkout",
        json!({"kind": "user"}),
        ValueType::Any,
        expect![[
            r#"error USER_NOT_SPECIFIED: the context is invalid: context of kind "user" has no key: key must be a non-empty string; serving the default"#
        ]],
    );
    check(
        "nowhere",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[
            r#"error FLAG_NOT_FOUND: there is no flag "nowhere" in the data; serving the default"#
        ]],
    );
    check(
        "broken",
        json!({"key": "u-1"}),
        ValueType::Any,
        expect![[
            r#"error MALFORMED_FLAG: the flag's data is invalid (a variation index out of range, an empty rollout, a bad attribute reference or a prerequisite cycle); serving the default"#
        ]],
    );
    check(
        "off",
        json!({"key": "u-1"}),
        ValueType::Bool,
        expect![[
            r#"error WRONG_TYPE: the flag served "y", which is not a boolean; serving the default"#
        ]],
    );
}
