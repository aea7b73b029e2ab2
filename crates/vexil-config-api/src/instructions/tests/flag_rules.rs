//! Flag rules: adding, removing, replacing, reordering, their clauses and what they serve.

use expect_test::expect;
use serde_json::{json, Value};

use super::{check_flag, flag};

/// A flag with rules `r1` (email) and `r2` (country, two clauses).
fn with_rules() -> Value {
    flag(json!({"rules": [
        {"id": "r1", "variation": 1, "trackEvents": false, "clauses": [
            {"contextKind": "user", "attribute": "email", "op": "endsWith", "values": ["@vexil.dev"], "negate": false}]},
        {"id": "r2", "variation": 2, "trackEvents": false, "clauses": [
            {"contextKind": "user", "attribute": "country", "op": "in", "values": ["NZ"], "negate": false},
            {"contextKind": "org", "attribute": "plan", "op": "in", "values": ["pro"], "negate": true}]}
    ]}))
}

fn country_clause() -> Value {
    json!({"attribute": "country", "op": "in", "values": ["NZ"]})
}

#[test]
fn add_rule_gets_a_new_id_and_a_user_clause_kind() {
    check_flag(
        flag(json!({})),
        json!([
            {"kind": "addRule", "clauses": [country_clause()], "variation": 1},
            {"kind": "addRule", "clauses": [], "rollout": {"variations": [
                {"variation": 0, "weight": 40000}, {"variation": 2, "weight": 60000, "untracked": true}],
                "kind": "experiment", "contextKind": "org", "bucketBy": "id", "seed": 7}, "trackEvents": true}
        ]),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]}],"id":"new-1","trackEvents":false,"variation":1},{"clauses":[],"id":"new-2","rollout":{"bucketBy":"id","contextKind":"org","kind":"experiment","seed":7,"variations":[{"variation":0,"weight":40000},{"untracked":true,"variation":2,"weight":60000}]},"trackEvents":true}]
        "#]],
    );
}

#[test]
fn add_rule_with_an_id_before_another_rule() {
    check_flag(
        with_rules(),
        json!([{"kind": "addRule", "ruleId": "beta", "beforeRuleId": "r2", "clauses": [], "variation": 0}]),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[],"id":"beta","trackEvents":false,"variation":0},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
}

#[test]
fn add_rule_errors() {
    let check =
        |instruction: Value, expected| check_flag(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "addRule", "ruleId": "r1", "clauses": [], "variation": 0}),
        expect![[r#"
            error: instructions[0] (addRule): a rule with id `r1` already exists
        "#]],
    );
    check(
        json!({"kind": "addRule", "ruleId": "", "clauses": [], "variation": 0}),
        expect![[r#"
            error: instructions[0] (addRule): `ruleId` must not be empty
        "#]],
    );
    check(
        json!({"kind": "addRule", "beforeRuleId": "r9", "clauses": [], "variation": 0}),
        expect![[r#"
            error: instructions[0] (addRule): no rule with id `r9`
        "#]],
    );
    check(
        json!({"kind": "addRule", "clauses": []}),
        expect![[r#"
            error: instructions[0] (addRule): set exactly one of `variation` and `rollout`
        "#]],
    );
    check(
        json!({"kind": "addRule", "clauses": [], "variation": 0,
               "rollout": {"variations": [{"variation": 0, "weight": 100000}]}}),
        expect![[r#"
            error: instructions[0] (addRule): set exactly one of `variation` and `rollout`, not both
        "#]],
    );
    check(
        json!({"kind": "addRule", "clauses": [], "variation": 3}),
        expect![[r#"
            error: instructions[0] (addRule): variation 3 is out of range: the flag has 3 variations
        "#]],
    );
    check(
        json!({"kind": "addRule", "clauses": [], "rollout": {"variations": [
            {"variation": 0, "weight": 50000}, {"variation": 7, "weight": 50000}]}}),
        expect![[r#"
            error: instructions[0] (addRule): variation 7 is out of range: the flag has 3 variations
        "#]],
    );
    check(
        json!({"kind": "addRule", "clauses": [], "rollout": {"variations": []}}),
        expect![[r#"
            error: instructions[0] (addRule): `rollout.variations` must not be empty
        "#]],
    );
}

#[test]
fn remove_replace_and_reorder_rules() {
    check_flag(
        with_rules(),
        json!([{"kind": "removeRule", "ruleId": "r1"}]),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
    check_flag(
        with_rules(),
        json!([{"kind": "replaceRules", "rules": [
            {"ruleId": "r2", "clauses": [], "variation": 0},
            {"clauses": [country_clause()], "variation": 1, "trackEvents": true}
        ]}]),
        expect![[r#"
            rules: [{"clauses":[],"id":"r2","trackEvents":false,"variation":0},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]}],"id":"new-1","trackEvents":true,"variation":1}]
        "#]],
    );
    check_flag(
        with_rules(),
        json!([{"kind": "reorderRules", "ruleIds": ["r2", "r1"]}, {"kind": "removeClauses", "ruleId": "r2", "clauseIndices": [0, 1]}]),
        expect![[r#"
            rules: [{"clauses":[],"id":"r2","trackEvents":false,"variation":2},{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1}]
        "#]],
    );
}

#[test]
fn remove_replace_and_reorder_errors() {
    let check =
        |instruction: Value, expected| check_flag(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "removeRule", "ruleId": "r9"}),
        expect![[r#"
            error: instructions[0] (removeRule): no rule with id `r9`
        "#]],
    );
    check(
        json!({"kind": "replaceRules", "rules": [
            {"ruleId": "x", "clauses": [], "variation": 0}, {"ruleId": "x", "clauses": [], "variation": 1}]}),
        expect![[r#"
            error: instructions[0] (replaceRules): rules[1]: a rule with id `x` already exists
        "#]],
    );
    check(
        json!({"kind": "reorderRules", "ruleIds": ["r2"]}),
        expect![[r#"
            error: instructions[0] (reorderRules): `ruleIds` must list every rule; it lacks `r1`
        "#]],
    );
    check(
        json!({"kind": "reorderRules", "ruleIds": ["r2", "r1", "r2"]}),
        expect![[r#"
            error: instructions[0] (reorderRules): `ruleIds` lists `r2` twice
        "#]],
    );
    check(
        json!({"kind": "reorderRules", "ruleIds": ["r2", "r1", "r3"]}),
        expect![[r#"
            error: instructions[0] (reorderRules): no rule with id `r3`
        "#]],
    );
}

#[test]
fn clauses() {
    let check =
        |instruction: Value, expected| check_flag(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "updateRuleClauses", "ruleId": "r1", "clauses": [country_clause()]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
    check(
        json!({"kind": "addClauses", "ruleId": "r1", "clauses": [
            {"contextKind": "device", "attribute": "/os/name", "op": "startsWith", "values": ["iOS"], "negate": true}]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]},{"attribute":"/os/name","contextKind":"device","negate":true,"op":"startsWith","values":["iOS"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
    check(
        json!({"kind": "removeClauses", "ruleId": "r2", "clauseIndices": [0]}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
    check(
        json!({"kind": "updateClause", "ruleId": "r2", "clauseIndex": 1, "clause":
            {"contextKind": "org", "attribute": "plan", "op": "in", "values": ["free"]}}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":false,"op":"in","values":["free"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
}

#[test]
fn clause_errors() {
    let check =
        |instruction: Value, expected| check_flag(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "updateRuleClauses", "ruleId": "r9", "clauses": []}),
        expect![[r#"
            error: instructions[0] (updateRuleClauses): no rule with id `r9`
        "#]],
    );
    check(
        json!({"kind": "addClauses", "ruleId": "r1", "clauses": []}),
        expect![[r#"
            error: instructions[0] (addClauses): `clauses` must not be empty
        "#]],
    );
    check(
        json!({"kind": "removeClauses", "ruleId": "r1", "clauseIndices": [1]}),
        expect![[r#"
            error: instructions[0] (removeClauses): clause index 1 is out of range: rule `r1` has 1 clause
        "#]],
    );
    check(
        json!({"kind": "removeClauses", "ruleId": "r2", "clauseIndices": [1, 1]}),
        expect![[r#"
            error: instructions[0] (removeClauses): `clauseIndices` lists 1 twice
        "#]],
    );
    check(
        json!({"kind": "removeClauses", "ruleId": "r2", "clauseIndices": []}),
        expect![[r#"
            error: instructions[0] (removeClauses): `clauseIndices` must not be empty
        "#]],
    );
    check(
        json!({"kind": "updateClause", "ruleId": "r2", "clauseIndex": 2, "clause": country_clause()}),
        expect![[r#"
            error: instructions[0] (updateClause): clause index 2 is out of range: rule `r2` has 2 clauses
        "#]],
    );
}

#[test]
fn what_a_rule_serves() {
    let check =
        |instruction: Value, expected| check_flag(with_rules(), json!([instruction]), expected);
    check(
        json!({"kind": "updateRuleVariationOrRollout", "ruleId": "r1",
               "rollout": {"variations": [{"variation": 0, "weight": 10000}, {"variation": 1, "weight": 90000}]}}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","rollout":{"variations":[{"variation":0,"weight":10000},{"variation":1,"weight":90000}]},"trackEvents":false},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":2}]
        "#]],
    );
    check(
        json!({"kind": "updateRuleVariationOrRollout", "ruleId": "r2", "variation": 0}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":false,"variation":0}]
        "#]],
    );
    check(
        json!({"kind": "updateRuleVariationOrRollout", "ruleId": "r2"}),
        expect![[r#"
            error: instructions[0] (updateRuleVariationOrRollout): set exactly one of `variation` and `rollout`
        "#]],
    );
    check(
        json!({"kind": "updateRuleVariationOrRollout", "ruleId": "r9", "variation": 0}),
        expect![[r#"
            error: instructions[0] (updateRuleVariationOrRollout): no rule with id `r9`
        "#]],
    );
    check(
        json!({"kind": "updateRuleTrackEvents", "ruleId": "r2", "trackEvents": true}),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"email","contextKind":"user","negate":false,"op":"endsWith","values":["@vexil.dev"]}],"id":"r1","trackEvents":false,"variation":1},{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]},{"attribute":"plan","contextKind":"org","negate":true,"op":"in","values":["pro"]}],"id":"r2","trackEvents":true,"variation":2}]
        "#]],
    );
}

#[test]
fn later_instructions_see_earlier_ones() {
    check_flag(
        flag(json!({})),
        json!([
            {"kind": "addRule", "clauses": [], "variation": 1},
            {"kind": "addRule", "clauses": [], "variation": 2, "beforeRuleId": "new-1"},
            {"kind": "addClauses", "ruleId": "new-2", "clauses": [country_clause()]},
            {"kind": "removeRule", "ruleId": "new-1"}
        ]),
        expect![[r#"
            rules: [{"clauses":[{"attribute":"country","contextKind":"user","negate":false,"op":"in","values":["NZ"]}],"id":"new-2","trackEvents":false,"variation":2}]
        "#]],
    );
}
