//! Tests for `evaluate`: one case per reason and per precedence rule, written as data.

use serde_json::{json, Value};

use crate::{evaluate, AllData, Context, FlagData, Store};

/// Evaluates flag `flag_key` of `data` (a polling payload) for `context` and compares
/// `(variationIndex, reason JSON)`.
#[track_caller]
fn check(
    data: Value,
    flag_key: &str,
    context: Value,
    expected_index: Option<usize>,
    expected_reason: Value,
) {
    let data = FlagData::from_all_data(serde_json::from_value::<AllData>(data).unwrap());
    let context = Context::from_json(&context).unwrap();
    let detail = evaluate(data.flag(flag_key).unwrap(), &context, &data);
    assert_eq!(detail.variation_index, expected_index, "variation index");
    assert_eq!(
        serde_json::to_value(detail.reason).unwrap(),
        expected_reason,
        "reason"
    );
    if let Some(index) = expected_index {
        let flag = data.flag(flag_key).unwrap().flag();
        assert_eq!(detail.value, Some(&flag.variations[index]));
    } else {
        assert_eq!(detail.value, None);
    }
}

fn flags(flags: Value) -> Value {
    json!({ "flags": flags, "segments": {} })
}

fn user(key: &str) -> Value {
    json!({ "kind": "user", "key": key })
}

#[test]
fn off_flag_serves_off_variation_or_nothing() {
    let flag = |off: Value| {
        flags(
            json!({"f": {"on": false, "variations": ["a", "b"], "offVariation": off, "fallthrough": {"variation": 0}}}),
        )
    };
    check(
        flag(json!(1)),
        "f",
        user("u"),
        Some(1),
        json!({"kind": "OFF"}),
    );
    check(
        flag(json!(null)),
        "f",
        user("u"),
        None,
        json!({"kind": "OFF"}),
    );
    check(
        flag(json!(5)),
        "f",
        user("u"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
    check(
        flag(json!(-1)),
        "f",
        user("u"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
}

#[test]
fn targets_beat_rules_and_rules_beat_fallthrough() {
    let data = flags(json!({"f": {
        "on": true, "variations": ["t", "r", "f"],
        "targets": [{"values": ["u-t"], "variation": 0}],
        "rules": [{"id": "r1", "variation": 1, "clauses": [
            {"contextKind": "user", "attribute": "key", "op": "startsWith", "values": ["u-"], "negate": false}]}],
        "fallthrough": {"variation": 2}}}));
    check(
        data.clone(),
        "f",
        user("u-t"),
        Some(0),
        json!({"kind": "TARGET_MATCH"}),
    );
    check(
        data.clone(),
        "f",
        user("u-r"),
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r1"}),
    );
    check(
        data,
        "f",
        user("x"),
        Some(2),
        json!({"kind": "FALLTHROUGH"}),
    );
}

#[test]
fn context_targets_use_user_placeholders_and_other_kinds() {
    let data = flags(json!({"f": {
        "on": true, "variations": ["a", "b", "c"],
        "targets": [{"values": ["u1"], "variation": 1}],
        "contextTargets": [
            {"contextKind": "org", "values": ["o1"], "variation": 2},
            {"contextKind": "user", "values": [], "variation": 1}],
        "fallthrough": {"variation": 0}}}));
    check(
        data.clone(),
        "f",
        user("u1"),
        Some(1),
        json!({"kind": "TARGET_MATCH"}),
    );
    let multi = json!({"kind": "multi", "user": {"key": "u1"}, "org": {"key": "o1"}});
    check(
        data.clone(),
        "f",
        multi,
        Some(2),
        json!({"kind": "TARGET_MATCH"}),
    );
    check(
        data,
        "f",
        json!({"kind": "org", "key": "u1"}),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
}

#[test]
fn negate_does_not_apply_to_missing_attributes_but_applies_to_empty_arrays() {
    let data = flags(json!({"f": {
        "on": true, "variations": [false, true],
        "rules": [{"id": "r", "variation": 1, "clauses": [
            {"contextKind": "user", "attribute": "groups", "op": "in", "values": ["x"], "negate": true}]}],
        "fallthrough": {"variation": 0}}}));
    check(
        data.clone(),
        "f",
        user("u"),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
    let empty = json!({"kind": "user", "key": "u", "groups": []});
    check(
        data.clone(),
        "f",
        empty,
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r"}),
    );
    let member = json!({"kind": "user", "key": "u", "groups": ["y", "x"]});
    check(data, "f", member, Some(0), json!({"kind": "FALLTHROUGH"}));
}

#[test]
fn kind_clauses_see_every_kind_of_a_multi_context() {
    let data = flags(json!({"f": {
        "on": true, "variations": [false, true],
        "rules": [{"id": "", "variation": 1, "clauses": [
            {"contextKind": "user", "attribute": "kind", "op": "in", "values": ["device"], "negate": false}]}],
        "fallthrough": {"variation": 0}}}));
    let multi = json!({"kind": "multi", "user": {"key": "u"}, "device": {"key": "d"}});
    check(
        data.clone(),
        "f",
        multi,
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0}),
    );
    check(
        data,
        "f",
        user("u"),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
}

#[test]
fn invalid_attribute_references_are_malformed() {
    let data = flags(json!({"f": {
        "on": true, "variations": [false, true],
        "rules": [{"id": "r", "variation": 1, "clauses": [
            {"contextKind": "user", "attribute": "/a~b", "op": "in", "values": ["x"], "negate": false}]}],
        "fallthrough": {"variation": 0}}}));
    check(
        data,
        "f",
        user("u"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
}

#[test]
fn prerequisites_fail_name_the_direct_prerequisite_and_detect_cycles() {
    let flag = |key: &str, prerequisite: Option<(&str, i64)>, on: bool| {
        let prerequisites: Vec<Value> = prerequisite
            .map(|(k, v)| json!({"key": k, "variation": v}))
            .into_iter()
            .collect();
        (
            key.to_owned(),
            json!({"key": key, "on": on, "variations": ["off", "on"], "offVariation": 0,
            "prerequisites": prerequisites, "fallthrough": {"variation": 1}}),
        )
    };
    let data = |entries: Vec<(String, Value)>| flags(Value::Object(entries.into_iter().collect()));
    let passing = data(vec![
        flag("a", Some(("b", 1)), true),
        flag("b", Some(("c", 1)), true),
        flag("c", None, true),
    ]);
    check(
        passing,
        "a",
        user("u"),
        Some(1),
        json!({"kind": "FALLTHROUGH"}),
    );
    let nested_off = data(vec![
        flag("a", Some(("b", 1)), true),
        flag("b", Some(("c", 1)), true),
        flag("c", None, false),
    ]);
    check(
        nested_off,
        "a",
        user("u"),
        Some(0),
        json!({"kind": "PREREQUISITE_FAILED", "prerequisiteKey": "b"}),
    );
    let unknown = data(vec![flag("a", Some(("zzz", 1)), true)]);
    check(
        unknown,
        "a",
        user("u"),
        Some(0),
        json!({"kind": "PREREQUISITE_FAILED", "prerequisiteKey": "zzz"}),
    );
    let cycle = data(vec![
        flag("a", Some(("b", 1)), true),
        flag("b", Some(("c", 1)), true),
        flag("c", Some(("a", 1)), true),
    ]);
    check(
        cycle,
        "a",
        user("u"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
}

#[test]
fn experiments_report_in_experiment_unless_untracked_or_kind_missing() {
    let data = |untracked: bool, kind: &str| {
        flags(
            json!({"hashKey": {"on": true, "salt": "saltyA", "variations": ["a", "b"],
            "fallthrough": {"rollout": {"kind": "experiment", "contextKind": kind, "variations": [
                {"variation": 0, "weight": 40000}, {"variation": 1, "weight": 60000, "untracked": untracked}]}}}}),
        )
    };
    // userKeyA buckets at 0.4216 (spec 4.4).
    check(
        data(false, "user"),
        "hashKey",
        user("userKeyA"),
        Some(1),
        json!({"kind": "FALLTHROUGH", "inExperiment": true}),
    );
    check(
        data(true, "user"),
        "hashKey",
        user("userKeyA"),
        Some(1),
        json!({"kind": "FALLTHROUGH"}),
    );
    check(
        data(false, "org"),
        "hashKey",
        user("userKeyA"),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
}

#[test]
fn segment_rules_with_weights_and_cycles() {
    let data = json!({
    "flags": {"f": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
        "rules": [{"id": "r", "variation": 1, "clauses": [
            {"attribute": "", "op": "segmentMatch", "values": ["s1"], "negate": false}]}]}},
    "segments": {
        "s1": {"key": "s1", "salt": "x", "included": ["in"], "excluded": ["out"],
            "rules": [{"id": "sr", "clauses": [{"contextKind": "user", "attribute": "key", "op": "startsWith", "values": ["o"], "negate": false}]}]},
    }});
    check(
        data.clone(),
        "f",
        user("in"),
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r"}),
    );
    check(
        data.clone(),
        "f",
        user("out"),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
    check(
        data.clone(),
        "f",
        user("other"),
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r"}),
    );
    let mut cyclic = data;
    cyclic["segments"]["s1"]["rules"][0]["clauses"] =
        json!([{"attribute": "", "op": "segmentMatch", "values": ["s1"], "negate": false}]);
    check(
        cyclic,
        "f",
        user("x"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
}

#[test]
fn rollout_without_buckets_is_malformed() {
    let data = flags(
        json!({"f": {"on": true, "variations": [false, true], "fallthrough": {"rollout": {"variations": []}}}}),
    );
    check(
        data,
        "f",
        user("u"),
        None,
        json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"}),
    );
}

/// A chain of `depth` flags, each the prerequisite of the one before, all passing.
fn prerequisite_chain(depth: usize) -> Value {
    let flags: serde_json::Map<String, Value> = (0..depth)
        .map(|i| {
            let prerequisites: Vec<Value> =
                if i + 1 < depth { vec![json!({"key": format!("f{}", i + 1), "variation": 0})] } else { vec![] };
            (format!("f{i}"), json!({"on": true, "variations": [true], "prerequisites": prerequisites, "fallthrough": {"variation": 0}}))
        })
        .collect();
    flags_payload(Value::Object(flags), json!({}))
}

/// `f` matches segment `s0`, which nests `s1` ... down to `s{depth-1}`, which includes `u`.
fn segment_chain(depth: usize) -> Value {
    let segments: serde_json::Map<String, Value> = (0..depth)
        .map(|i| {
            let segment = if i + 1 < depth {
                json!({"rules": [{"clauses": [{"attribute": "", "op": "segmentMatch", "values": [format!("s{}", i + 1)]}]}]})
            } else {
                json!({"included": ["u"]})
            };
            (format!("s{i}"), segment)
        })
        .collect();
    let flag = json!({"f": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
        "rules": [{"id": "r", "variation": 1, "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["s0"]}]}]}});
    flags_payload(flag, Value::Object(segments))
}

fn flags_payload(flags: Value, segments: Value) -> Value {
    json!({"flags": flags, "segments": segments})
}

#[test]
fn nesting_up_to_the_limit_evaluates_and_deeper_is_malformed() {
    use crate::chain::MAX_DEPTH;
    let malformed = json!({"kind": "ERROR", "errorKind": "MALFORMED_FLAG"});
    // The last flag of a chain has no prerequisites of its own, so it adds no level.
    check(
        prerequisite_chain(MAX_DEPTH + 1),
        "f0",
        user("u"),
        Some(0),
        json!({"kind": "FALLTHROUGH"}),
    );
    check(
        prerequisite_chain(MAX_DEPTH + 2),
        "f0",
        user("u"),
        None,
        malformed.clone(),
    );
    check(
        segment_chain(MAX_DEPTH),
        "f",
        user("u"),
        Some(1),
        json!({"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "r"}),
    );
    check(
        segment_chain(MAX_DEPTH + 1),
        "f",
        user("u"),
        None,
        malformed,
    );
}

/// Evaluates flag `f` of `data` for `context` with and without the secondary key option and
/// returns the two variation indexes.
fn with_and_without_secondary(data: Value, context: Value) -> (Option<usize>, Option<usize>) {
    let data = FlagData::from_all_data(serde_json::from_value::<AllData>(data).unwrap());
    let context = Context::from_json(&context).unwrap();
    let flag = data.flag("f").unwrap();
    let index = |options| {
        crate::evaluate_with_options(flag, &context, &data, &mut (), options).variation_index
    };
    (
        index(crate::EvaluationOptions::CLIENT_SIDE),
        index(crate::EvaluationOptions::default()),
    )
}

#[test]
fn secondary_key_takes_part_in_rollouts_and_segment_weights_only_when_asked() {
    use crate::bucketing::bucket;
    // Weights put the boundary between the bucket without and with the secondary key, so the
    // two must land in different buckets; which one is lower decides the expected indexes.
    let plain = bucket("f.salt", "u-1");
    let secondary = bucket("f.salt", "u-1.s-1");
    let boundary = ((plain + secondary) / 2.0 * 100_000.0) as i64;
    let (low, high) = if secondary < plain { (0, 1) } else { (1, 0) };
    let old_user = json!({"key": "u-1", "secondary": "s-1"});
    let rollout = |kind: &str| {
        flags(
            json!({"f": {"on": true, "key": "f", "salt": "salt", "variations": ["a", "b"],
            "fallthrough": {"rollout": {"kind": kind, "variations": [
                {"variation": 0, "weight": boundary}, {"variation": 1, "weight": 100_000 - boundary}]}}}}),
        )
    };
    assert_eq!(
        with_and_without_secondary(rollout("rollout"), old_user.clone()),
        (Some(low), Some(high))
    );
    // Experiments never use it (spec 4.1).
    assert_eq!(
        with_and_without_secondary(rollout("experiment"), old_user.clone()),
        (Some(high), Some(high))
    );
    // New-format contexts have no secondary key.
    assert_eq!(
        with_and_without_secondary(rollout("rollout"), user("u-1")),
        (Some(high), Some(high))
    );

    let plain = bucket("s.salt", "u-1");
    let secondary = bucket("s.salt", "u-1.s-1");
    let weight = ((plain + secondary) / 2.0 * 100_000.0) as i64;
    let in_segment = |bucket: f32| Some(usize::from(bucket < weight as f32 / 100_000.0));
    let segment = json!({
        "flags": {"f": {"on": true, "variations": [false, true], "fallthrough": {"variation": 0},
            "rules": [{"id": "r", "variation": 1, "clauses": [
                {"attribute": "", "op": "segmentMatch", "values": ["s"], "negate": false}]}]}},
        "segments": {"s": {"key": "s", "salt": "salt", "rules": [{"clauses": [], "weight": weight}]}}
    });
    assert_eq!(
        with_and_without_secondary(segment, old_user),
        (in_segment(secondary), in_segment(plain))
    );
    assert_ne!(in_segment(secondary), in_segment(plain));
}
