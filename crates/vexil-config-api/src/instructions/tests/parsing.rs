//! Decoding instructions as the REST layer does (serde_path_to_error on the request body):
//! typos are errors naming the instruction, and instructions survive a round trip.

use expect_test::{expect, Expect};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::instructions::{FlagInstruction, SegmentInstruction};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body<T> {
    #[allow(dead_code)]
    instructions: Vec<T>,
}

/// The decoding error of a body holding `instructions`, as `path: message`.
#[track_caller]
fn check_error<T: DeserializeOwned>(instructions: Value, expected: Expect) {
    let body = json!({ "instructions": instructions }).to_string();
    let deserializer = &mut serde_json::Deserializer::from_str(&body);
    let error = match serde_path_to_error::deserialize::<_, Body<T>>(deserializer) {
        Ok(_) => panic!("{instructions} decoded"),
        Err(error) => error,
    };
    expected.assert_eq(&format!("{}: {}", error.path(), error.inner()));
}

#[track_caller]
fn check_flag_error(instructions: Value, expected: Expect) {
    check_error::<FlagInstruction>(instructions, expected);
}

#[test]
fn unknown_and_missing_kinds() {
    check_flag_error(
        json!([{"kind": "turnFlagOn"}, {"kind": "turnFlagOnn"}]),
        expect!["instructions[1].kind: unknown variant `turnFlagOnn`, expected one of `turnFlagOn`, `turnFlagOff`, `addTargets`, `removeTargets`, `replaceTargets`, `addRule`, `removeRule`, `replaceRules`, `reorderRules`, `updateRuleClauses`, `addClauses`, `removeClauses`, `updateClause`, `updateRuleVariationOrRollout`, `updateRuleTrackEvents`, `updateFallthroughVariationOrRollout`, `updateOffVariation`, `updateTrackEvents`, `updateTrackEventsFallthrough`, `addPrerequisite`, `removePrerequisite`, `updatePrerequisite`, `replacePrerequisites` at line 1 column 60"],
    );
    check_flag_error(
        json!([{"variation": 1}]),
        expect!["instructions[0]: missing field `kind` at line 1 column 32"],
    );
    check_error::<SegmentInstruction>(json!([{"kind": "turnFlagOn"}]), expect!["instructions[0].kind: unknown variant `turnFlagOn`, expected one of `addIncludedTargets`, `removeIncludedTargets`, `addExcludedTargets`, `removeExcludedTargets`, `addRule`, `removeRule`, `reorderRules`, `updateRuleClauses`, `addClauses`, `removeClauses`, `updateClause`, `updateRuleRolloutAndContextKind` at line 1 column 37"]);
}

#[test]
fn unknown_fields_are_errors() {
    check_flag_error(json!([{"kind": "turnFlagOn", "environmentKey": "production"}]), expect!["instructions[0]: unknown field `environmentKey`, there are no fields at line 1 column 69"]);
    check_flag_error(
        json!([{"kind": "addTargets", "variation": 1, "value": ["u1"]}]),
        expect!["instructions[0]: unknown field `value`, expected one of `contextKind`, `variation`, `values` at line 1 column 68"],
    );
    check_flag_error(
        json!([{"kind": "addRule", "variation": 1, "description": "beta users", "clauses": []}]),
        expect!["instructions[0]: unknown field `description`, expected one of `ruleId`, `clauses`, `variation`, `rollout`, `trackEvents`, `beforeRuleId` at line 1 column 90"],
    );
    // Inside clauses and rollouts too, where the stored model would ignore them.
    check_flag_error(
        json!([{"kind": "addRule", "variation": 1, "clauses": [
            {"attribute": "email", "op": "in", "values": ["a"], "negated": true}]}]),
        expect!["instructions[0]: unknown field `negated`, expected one of `contextKind`, `attribute`, `op`, `values`, `negate` at line 1 column 124"],
    );
    check_flag_error(
        json!([{"kind": "updateFallthroughVariationOrRollout", "rollout": {"bucketby": "org",
            "variations": [{"variation": 0, "weight": 100000}]}}]),
        expect!["instructions[0]: unknown field `bucketby`, expected one of `variations`, `kind`, `contextKind`, `bucketBy`, `seed` at line 1 column 140"],
    );
    check_flag_error(
        json!([{"kind": "updateFallthroughVariationOrRollout", "rollout": {"kind": "experimnt",
            "variations": [{"variation": 0, "weight": 100000}]}}]),
        expect!["instructions[0]: unknown variant `experimnt`, expected `rollout` or `experiment` at line 1 column 142"],
    );
    check_error::<SegmentInstruction>(
        json!([{"kind": "addIncludedTargets", "contextkind": "team", "values": ["qa"]}]),
        expect!["instructions[0]: unknown field `contextkind`, expected `contextKind` or `values` at line 1 column 84"],
    );
}

#[test]
fn missing_fields_and_wrong_types() {
    check_flag_error(
        json!([{"kind": "removeRule"}]),
        expect!["instructions[0]: missing field `ruleId` at line 1 column 39"],
    );
    check_flag_error(
        json!([{"kind": "updateOffVariation"}]),
        expect!["instructions[0]: missing field `variation` at line 1 column 47"],
    );
    check_flag_error(
        json!([{"kind": "addTargets", "variation": -1, "values": ["u1"]}]),
        expect!["instructions[0]: invalid value: integer `-1`, expected usize at line 1 column 70"],
    );
    check_flag_error(
        json!([{"kind": "addTargets", "variation": "on", "values": ["u1"]}]),
        expect![[
            r#"instructions[0]: invalid type: string "on", expected usize at line 1 column 72"#
        ]],
    );
    check_flag_error(
        json!({"kind": "turnFlagOn"}),
        expect!["instructions: invalid type: map, expected a sequence at line 1 column 16"],
    );
}

/// One instruction of every kind, with every optional field set.
fn every_flag_instruction() -> Value {
    let clause = json!({"contextKind": "org", "attribute": "plan", "op": "in", "values": ["pro"], "negate": true});
    let rollout = json!({"variations": [{"variation": 0, "weight": 50000, "untracked": true},
                                        {"variation": 1, "weight": 50000}],
                         "kind": "experiment", "contextKind": "org", "bucketBy": "id", "seed": 3});
    json!([
        {"kind": "turnFlagOn"},
        {"kind": "turnFlagOff"},
        {"kind": "addTargets", "contextKind": "team", "variation": 1, "values": ["qa"]},
        {"kind": "removeTargets", "contextKind": "team", "variation": 1, "values": ["qa"]},
        {"kind": "replaceTargets", "targets": [{"contextKind": "team", "variation": 1, "values": ["qa"]}]},
        {"kind": "addRule", "ruleId": "r", "clauses": [clause], "rollout": rollout, "trackEvents": true, "beforeRuleId": "s"},
        {"kind": "removeRule", "ruleId": "r"},
        {"kind": "replaceRules", "rules": [{"ruleId": "r", "clauses": [clause], "variation": 1, "trackEvents": true}]},
        {"kind": "reorderRules", "ruleIds": ["s", "r"]},
        {"kind": "updateRuleClauses", "ruleId": "r", "clauses": [clause]},
        {"kind": "addClauses", "ruleId": "r", "clauses": [clause]},
        {"kind": "removeClauses", "ruleId": "r", "clauseIndices": [0]},
        {"kind": "updateClause", "ruleId": "r", "clauseIndex": 0, "clause": clause},
        {"kind": "updateRuleVariationOrRollout", "ruleId": "r", "variation": 1},
        {"kind": "updateRuleTrackEvents", "ruleId": "r", "trackEvents": true},
        {"kind": "updateFallthroughVariationOrRollout", "rollout": rollout},
        {"kind": "updateOffVariation", "variation": 0},
        {"kind": "updateTrackEvents", "trackEvents": true},
        {"kind": "updateTrackEventsFallthrough", "trackEvents": true},
        {"kind": "addPrerequisite", "key": "p", "variation": 1},
        {"kind": "removePrerequisite", "key": "p"},
        {"kind": "updatePrerequisite", "key": "p", "variation": 0},
        {"kind": "replacePrerequisites", "prerequisites": [{"key": "p", "variation": 1}]}
    ])
}

fn every_segment_instruction() -> Value {
    let clause = json!({"contextKind": "org", "attribute": "plan", "op": "in", "values": ["pro"], "negate": true});
    json!([
        {"kind": "addIncludedTargets", "contextKind": "team", "values": ["qa"]},
        {"kind": "removeIncludedTargets", "contextKind": "team", "values": ["qa"]},
        {"kind": "addExcludedTargets", "contextKind": "team", "values": ["qa"]},
        {"kind": "removeExcludedTargets", "contextKind": "team", "values": ["qa"]},
        {"kind": "addRule", "ruleId": "r", "clauses": [clause], "weight": 1, "bucketBy": "id",
         "rolloutContextKind": "org", "beforeRuleId": "s"},
        {"kind": "removeRule", "ruleId": "r"},
        {"kind": "reorderRules", "ruleIds": ["s", "r"]},
        {"kind": "updateRuleClauses", "ruleId": "r", "clauses": [clause]},
        {"kind": "addClauses", "ruleId": "r", "clauses": [clause]},
        {"kind": "removeClauses", "ruleId": "r", "clauseIndices": [0]},
        {"kind": "updateClause", "ruleId": "r", "clauseIndex": 0, "clause": clause},
        {"kind": "updateRuleRolloutAndContextKind", "ruleId": "r", "weight": 1, "bucketBy": "id",
         "rolloutContextKind": "org"}
    ])
}

/// Instructions are stored (approval requests, scheduled changes) and decoded again later:
/// encoding gives back the JSON they were decoded from, and `kind()` is the JSON tag.
#[track_caller]
fn check_round_trip<T>(instructions: Value, kind: impl Fn(&T) -> &'static str)
where
    T: Serialize + DeserializeOwned,
{
    for json in instructions.as_array().unwrap() {
        let instruction: T = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(&serde_json::to_value(&instruction).unwrap(), json);
        assert_eq!(json["kind"], kind(&instruction));
    }
}

#[test]
fn instructions_round_trip() {
    check_round_trip(every_flag_instruction(), FlagInstruction::kind);
    check_round_trip(every_segment_instruction(), SegmentInstruction::kind);
}
