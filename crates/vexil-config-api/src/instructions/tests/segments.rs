//! Segment instructions: included and excluded keys, rules and their clauses.

use expect_test::expect;
use serde_json::{json, Value};

use super::{check_segment, segment};

fn with_targets() -> Value {
    segment(json!({
        "included": ["u1"], "excluded": ["u9"],
        "includedContexts": [{"contextKind": "team", "values": ["qa", "ops"]}],
        "excludedContexts": [{"contextKind": "org", "values": ["acme"]}]
    }))
}

fn with_rules() -> Value {
    segment(json!({"rules": [
        {"id": "r1", "clauses": [{"contextKind": "user", "attribute": "email", "op": "endsWith",
                                  "values": ["@vexil.dev"], "negate": false}]},
        {"id": "r2", "clauses": [], "weight": 25000, "bucketBy": "key", "rolloutContextKind": "user"}
    ]}))
}

#[test]
fn included_and_excluded_keys() {
    let check = |instruction: Value, expected| {
        check_segment(with_targets(), json!([instruction]), expected)
    };
    check(
        json!({"kind": "addIncludedTargets", "values": ["u2", "u1"]}),
        expect![[r#"
            included: ["u1","u2"]
        "#]],
    );
    check(
        json!({"kind": "addIncludedTargets", "contextKind": "team", "values": ["dev"]}),
        expect![[r#"
            includedContexts: [{"contextKind":"team","values":["qa","ops","dev"]}]
        "#]],
    );
    check(
        json!({"kind": "addExcludedTargets", "contextKind": "team", "values": ["qa"]}),
        expect![[r#"
            excludedContexts: [{"contextKind":"org","values":["acme"]},{"contextKind":"team","values":["qa"]}]
        "#]],
    );
    // Included wins over excluded in evaluation, so a key may be in both.
    check(
        json!({"kind": "addExcludedTargets", "contextKind": "user", "values": ["u1"]}),
        expect![[r#"
            excluded: ["u9","u1"]
        "#]],
    );
    check(
        json!({"kind": "removeIncludedTargets", "contextKind": "team", "values": ["qa", "ops"]}),
        expect![[r#"
            includedContexts: []
        "#]],
    );
    check(
        json!({"kind": "removeExcludedTargets", "values": ["u9"]}),
        expect![[r#"
            excluded: []
        "#]],
    );
    check(
        json!({"kind": "removeIncludedTargets", "values": ["u1"]}),
        expect![[r#"
            included: []
        "#]],
    );
}

#[test]
fn target_errors() {
    let check = |instruction: Value, expected| {
        check_segment(with_targets(), json!([instruction]), expected)
    };
    check(
        json!({"kind": "removeIncludedTargets", "values": ["u9"]}),
        expect![[r#"
            error: instructions[0] (removeIncludedTargets): user key `u9` is not included
        "#]],
    );
    check(
        json!({"kind": "removeExcludedTargets", "contextKind": "team", "values": ["acme"]}),
        expect![[r#"
            error: instructions[0] (removeExcludedTargets): team key `acme` is not excluded
        "#]],
    );
    check(
        json!({"kind": "addIncludedTargets", "values": []}),
        expect![[r#"
            error: instructions[0] (addIncludedTargets): `values` must not be empty
        "#]],
    );
}

#[test]
fn rules() {
    let check =
        |instruction: Value, expected| check_segment(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "addRule", "beforeRuleId": "r2", "weight": 50000, "rolloutContextKind": "org",
               "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"], "contextKind": "org"}]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1"},{"clauses":[{"attribute":"plan","contextKind":"org","negate":false,"op":"in","values":["pro"]}],"id":"new-1","rolloutContextKind":"org","weight":50000},{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
    check(
        json!({"kind": "removeRule", "ruleId": "r1"}),
        expect![[r#"
            rules: [{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
    check(
        json!({"kind": "reorderRules", "ruleIds": ["r2", "r1"]}),
        expect![[r#"
            rules: [{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000},{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1"}]
        "#]],
    );
    check(
        json!({"kind": "updateRuleRolloutAndContextKind", "ruleId": "r2", "weight": 100}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1"},{"clauses":[],"id":"r2","weight":100}]
        "#]],
    );
}

#[test]
fn rule_clauses() {
    let check =
        |instruction: Value, expected| check_segment(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "updateRuleClauses", "ruleId": "r2", "clauses": [
            {"op": "segmentMatch", "values": ["other"]}]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1"},{"bucketBy":"key","clauses":[{"attribute":"","contextKind":"user","negate":false,"op":"segmentMatch","values":["other"]}],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
    check(
        json!({"kind": "addClauses", "ruleId": "r1", "clauses": [
            {"attribute": "country", "op": "in", "values": ["NZ"], "negate": true}]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]},{"attribute":"country","contextKind":"user","negate":true,"op":"in","values":["NZ"]}],"id":"r1"},{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
    check(
        json!({"kind": "removeClauses", "ruleId": "r1", "clauseIndices": [0]}),
        expect![[r#"
            rules: [{"clauses":[],"id":"r1"},{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
    check(
        json!({"kind": "updateClause", "ruleId": "r1", "clauseIndex": 0, "clause":
            {"attribute": "email", "op": "endsWith", "values": ["@example.com"]}}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@example.com"]}],"id":"r1"},{"bucketBy":"key","clauses":[],"id":"r2","rolloutContextKind":"user","weight":25000}]
        "#]],
    );
}

#[test]
fn rule_errors() {
    let check = |instructions: Value, expected| check_segment(with_rules(), instructions, expected);
    check(
        json!([{"kind": "addRule", "ruleId": "r2", "clauses": []}]),
        expect![[r#"
            error: instructions[0] (addRule): a rule with id `r2` already exists
        "#]],
    );
    check(
        json!([{"kind": "removeRule", "ruleId": "r1"}, {"kind": "removeRule", "ruleId": "r1"}]),
        expect![[r#"
            error: instructions[1] (removeRule): no rule with id `r1`
        "#]],
    );
    check(
        json!([{"kind": "reorderRules", "ruleIds": ["r1"]}]),
        expect![[r#"
            error: instructions[0] (reorderRules): `ruleIds` must list every rule; it lacks `r2`
        "#]],
    );
    check(
        json!([{"kind": "updateClause", "ruleId": "r2", "clauseIndex": 0, "clause": {"op": "in", "values": []}}]),
        expect![[r#"
            error: instructions[0] (updateClause): clause index 0 is out of range: rule `r2` has no clauses
        "#]],
    );
    check(
        json!([{"kind": "updateRuleRolloutAndContextKind", "ruleId": "", "weight": 1}]),
        expect![[r#"
            error: instructions[0] (updateRuleRolloutAndContextKind): `ruleId` must not be empty
        "#]],
    );
}
