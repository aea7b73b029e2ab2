//! The on switch, fallthrough, off variation, event tracking, prerequisites, and atomicity.

use expect_test::expect;
use serde_json::{json, Value};
use vexil_eval::Flag;

use super::{check_flag, counter, flag};
use crate::instructions::{apply_flag_instructions, FlagInstruction};

#[test]
fn on_and_off() {
    check_flag(
        flag(json!({})),
        json!([{"kind": "turnFlagOn"}]),
        expect![[r#"
            on: true
        "#]],
    );
    check_flag(
        flag(json!({"on": true})),
        json!([{"kind": "turnFlagOff"}]),
        expect![[r#"
            on: false
        "#]],
    );
    check_flag(
        flag(json!({"on": true})),
        json!([{"kind": "turnFlagOn"}]),
        expect![[r#"
            no change
        "#]],
    );
}

#[test]
fn fallthrough_and_off_variation() {
    check_flag(
        flag(json!({})),
        json!([{"kind": "updateFallthroughVariationOrRollout", "rollout": {"contextKind": "user",
            "variations": [{"variation": 1, "weight": 50000}, {"variation": 2, "weight": 50000}]}},
               {"kind": "updateOffVariation", "variation": 2}]),
        expect![[r#"
            offVariation: 2
            fallthrough: {"rollout":{"contextKind":"user","variations":[{"variation":1,"weight":50000},{"variation":2,"weight":50000}]}}
        "#]],
    );
    check_flag(
        flag(
            json!({"fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 100000}]}}}),
        ),
        json!([{"kind": "updateFallthroughVariationOrRollout", "variation": 1}]),
        expect![[r#"
            fallthrough: {"variation":1}
        "#]],
    );
    check_flag(
        flag(json!({})),
        json!([{"kind": "updateFallthroughVariationOrRollout", "variation": 3}]),
        expect![[r#"
            error: instructions[0] (updateFallthroughVariationOrRollout): variation 3 is out of range: the flag has 3 variations
        "#]],
    );
    check_flag(
        flag(json!({"variations": [true]})),
        json!([{"kind": "updateOffVariation", "variation": 1}]),
        expect![[r#"
            error: instructions[0] (updateOffVariation): variation 1 is out of range: the flag has 1 variation
        "#]],
    );
}

#[test]
fn track_events() {
    check_flag(
        flag(json!({})),
        json!([{"kind": "updateTrackEvents", "trackEvents": true},
               {"kind": "updateTrackEventsFallthrough", "trackEvents": true}]),
        expect![[r#"
            trackEvents: true
            trackEventsFallthrough: true
        "#]],
    );
}

#[test]
fn prerequisites() {
    let with_prerequisite =
        || flag(json!({"prerequisites": [{"key": "payments", "variation": 1}]}));
    // The variation indexes the prerequisite flag's variations, which validation checks.
    check_flag(
        with_prerequisite(),
        json!([{"kind": "addPrerequisite", "key": "checkout", "variation": 7}]),
        expect![[r#"
            prerequisites: [{"key":"payments","variation":1},{"key":"checkout","variation":7}]
        "#]],
    );
    check_flag(
        with_prerequisite(),
        json!([{"kind": "updatePrerequisite", "key": "payments", "variation": 0}]),
        expect![[r#"
            prerequisites: [{"key":"payments","variation":0}]
        "#]],
    );
    check_flag(
        with_prerequisite(),
        json!([{"kind": "removePrerequisite", "key": "payments"}]),
        expect![[r#"
            prerequisites: []
        "#]],
    );
    check_flag(
        with_prerequisite(),
        json!([{"kind": "replacePrerequisites", "prerequisites": [
            {"key": "a", "variation": 0}, {"key": "b", "variation": 1}]}]),
        expect![[r#"
            prerequisites: [{"key":"a","variation":0},{"key":"b","variation":1}]
        "#]],
    );
}

#[test]
fn prerequisite_errors() {
    let check = |instruction: Value, expected| {
        let flag = flag(json!({"prerequisites": [{"key": "payments", "variation": 1}]}));
        check_flag(flag, json!([instruction]), expected);
    };
    check(
        json!({"kind": "addPrerequisite", "key": "payments", "variation": 0}),
        expect![[r#"
            error: instructions[0] (addPrerequisite): `payments` is already a prerequisite; use updatePrerequisite to change its variation
        "#]],
    );
    check(
        json!({"kind": "addPrerequisite", "key": "f", "variation": 0}),
        expect![[r#"
            error: instructions[0] (addPrerequisite): flag `f` cannot be its own prerequisite
        "#]],
    );
    check(
        json!({"kind": "addPrerequisite", "key": "", "variation": 0}),
        expect![[r#"
            error: instructions[0] (addPrerequisite): `key` must not be empty
        "#]],
    );
    check(
        json!({"kind": "removePrerequisite", "key": "billing"}),
        expect![[r#"
            error: instructions[0] (removePrerequisite): `billing` is not a prerequisite of this flag
        "#]],
    );
    check(
        json!({"kind": "updatePrerequisite", "key": "billing", "variation": 0}),
        expect![[r#"
            error: instructions[0] (updatePrerequisite): `billing` is not a prerequisite of this flag
        "#]],
    );
    check(
        json!({"kind": "replacePrerequisites", "prerequisites": [
            {"key": "a", "variation": 0}, {"key": "a", "variation": 1}]}),
        expect![[r#"
            error: instructions[0] (replacePrerequisites): prerequisites[1]: `a` is listed twice
        "#]],
    );
}

#[test]
fn a_failing_instruction_applies_nothing() {
    let original: Flag = serde_json::from_value(flag(json!({}))).unwrap();
    let instructions: Vec<FlagInstruction> = serde_json::from_value(json!([
        {"kind": "turnFlagOn"},
        {"kind": "addTargets", "variation": 1, "values": ["u1"]},
        {"kind": "removeRule", "ruleId": "r9"},
        {"kind": "updateOffVariation", "variation": 1}
    ]))
    .unwrap();
    let error = apply_flag_instructions(&original, &instructions, &mut counter()).unwrap_err();
    expect![[r#"
        InstructionError {
            index: 2,
            kind: "removeRule",
            reason: "no rule with id `r9`",
        }
    "#]]
    .assert_debug_eq(&error);
    let unchanged: Flag = serde_json::from_value(flag(json!({}))).unwrap();
    assert_eq!(original, unchanged);
}

#[test]
fn an_empty_list_changes_nothing() {
    check_flag(
        flag(json!({})),
        json!([]),
        expect![[r#"
            no change
        "#]],
    );
}
