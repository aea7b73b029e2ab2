//! Checks against the other items of the environment: existence, cycles and nesting depth.

use std::collections::BTreeMap;

use expect_test::{expect, Expect};
use serde_json::{json, Value};

use super::{
    flag, render, segment, validate_flag_segment_references, validate_prerequisites,
    validate_segment_segment_references,
};
use crate::chain::MAX_DEPTH;
use crate::model::{AllData, Flag, Segment};
use crate::{evaluate, Context, ErrorKind, FlagData, Reason, Store};

/// Items by key from `{key: fields}`, each made valid by `complete`.
fn items<T: serde::de::DeserializeOwned>(
    items: Value,
    complete: fn(Value) -> Value,
) -> BTreeMap<String, T> {
    items
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, fields)| {
            let item = complete(super::merge(fields.clone(), json!({"key": key})));
            (key.clone(), serde_json::from_value(item).unwrap())
        })
        .collect()
}

/// Validates the prerequisites of `written` (merged into a valid flag) against `stored`.
#[track_caller]
fn check_prerequisites(written: Value, stored: Value, expected: Expect) {
    let written: Flag = serde_json::from_value(flag(written)).unwrap();
    let stored: BTreeMap<String, Flag> = items(stored, flag);
    let errors = validate_prerequisites(&written, |key| stored.get(key));
    expected.assert_eq(&render(&errors));
}

/// Validates the segment references of flag `written` against `stored` segments.
#[track_caller]
fn check_flag_segments(written: Value, stored: Value, expected: Expect) {
    let written: Flag = serde_json::from_value(flag(written)).unwrap();
    let stored: BTreeMap<String, Segment> = items(stored, segment);
    let errors = validate_flag_segment_references(&written, |key| stored.get(key));
    expected.assert_eq(&render(&errors));
}

/// Validates the segment references of segment `written` against `stored` segments.
#[track_caller]
fn check_segment_segments(written: Value, stored: Value, expected: Expect) {
    let written: Segment = serde_json::from_value(segment(written)).unwrap();
    let stored: BTreeMap<String, Segment> = items(stored, segment);
    let errors = validate_segment_segment_references(&written, |key| stored.get(key));
    expected.assert_eq(&render(&errors));
}

fn prerequisite(key: &str) -> Value {
    json!({"key": key, "variation": 0})
}

/// `fields` of a segment with one rule matching the segments `keys`.
fn nesting(keys: &[&str]) -> Value {
    json!({"rules": [{"clauses": [{"attribute": "", "op": "segmentMatch", "values": keys}]}]})
}

/// Flags `{prefix}{first}` to `{prefix}{last}`, each the prerequisite of the one before.
fn prerequisite_chain(prefix: &str, first: usize, last: usize) -> Value {
    (first..=last)
        .map(|i| {
            let prerequisites: Vec<Value> = if i < last {
                vec![prerequisite(&format!("{prefix}{}", i + 1))]
            } else {
                vec![]
            };
            (
                format!("{prefix}{i}"),
                json!({"prerequisites": prerequisites}),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Segments `s{first}` to `s{last}`, each nesting the next.
fn segment_chain(first: usize, last: usize) -> Value {
    (first..=last)
        .map(|i| {
            let fields = if i < last {
                nesting(&[&format!("s{}", i + 1)])
            } else {
                json!({})
            };
            (format!("s{i}"), fields)
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn prerequisites_exist_and_their_variation_is_theirs() {
    check_prerequisites(
        json!({"prerequisites": [
            {"key": "three", "variation": 2},
            {"key": "two", "variation": 2},
            {"key": "missing", "variation": 0},
            {"key": "gone", "variation": 0},
            {"key": "f", "variation": 0}]}),
        json!({"three": {"variations": [1, 2, 3]}, "two": {}, "gone": {"deleted": true}}),
        expect![[r#"
            prerequisites[1].variation: variation index 2 is out of range: flag "two" has 2 variations
            prerequisites[2].key: flag "missing" does not exist in this environment
            prerequisites[3].key: flag "gone" does not exist in this environment
        "#]],
    );
}

#[test]
fn prerequisite_cycles_are_reported_from_the_flag_down() {
    // The stored copy of `f` has no prerequisites; the written one makes the cycle.
    check_prerequisites(
        json!({"prerequisites": [prerequisite("a")]}),
        json!({"f": {}, "a": {"prerequisites": [prerequisite("b")]},
               "b": {"prerequisites": [prerequisite("f")]}}),
        expect![[r#"
            prerequisites[0].key: prerequisites form a cycle: f -> a -> b -> f
        "#]],
    );
    // A cycle below the flag makes its evaluation fail too.
    check_prerequisites(
        json!({"prerequisites": [prerequisite("a"), prerequisite("c")]}),
        json!({"a": {"prerequisites": [prerequisite("b")]},
               "b": {"prerequisites": [prerequisite("a")]},
               "c": {"prerequisites": [prerequisite("b")]}}),
        expect![[r#"
            prerequisites[0].key: prerequisites form a cycle: a -> b -> a
            prerequisites[1].key: prerequisites form a cycle: b -> a -> b
        "#]],
    );
    // The same flag in two branches is not a cycle.
    check_prerequisites(
        json!({"prerequisites": [prerequisite("a"), prerequisite("b")]}),
        json!({"a": {"prerequisites": [prerequisite("c")]},
               "b": {"prerequisites": [prerequisite("c")]}, "c": {}}),
        expect![[""]],
    );
}

#[test]
fn prerequisite_chains_hold_at_most_max_depth_flags_with_prerequisites() {
    // `f` -> p1 -> ... -> p{n}: `f` and p1..p{n-1} have prerequisites, so n levels.
    check_prerequisites(
        json!({"prerequisites": [prerequisite("p1")]}),
        prerequisite_chain("p", 1, MAX_DEPTH),
        expect![[""]],
    );
    check_prerequisites(
        json!({"prerequisites": [prerequisite("p1")]}),
        prerequisite_chain("p", 1, MAX_DEPTH + 1),
        expect![[r#"
            prerequisites[0].key: prerequisites nest too deeply: more than 64 flags with prerequisites in the chain f -> p1 -> p2 -> ... -> p62 -> p63 -> p64
        "#]],
    );
    // The second path reaches the already walked chain one level deeper.
    let mut stored = prerequisite_chain("p", 1, MAX_DEPTH);
    stored["x"] = json!({"prerequisites": [prerequisite("p1")]});
    check_prerequisites(
        json!({"prerequisites": [prerequisite("p1"), prerequisite("x")]}),
        stored,
        expect![[r#"
            prerequisites[1].key: prerequisites nest too deeply: more than 64 flags with prerequisites in the chain f -> x -> p1 -> ... -> p62 -> p63 -> p64
        "#]],
    );
}

#[test]
fn a_flag_references_existing_segments() {
    check_flag_segments(
        json!({"rules": [{"id": "r", "variation": 0, "clauses": [
            {"attribute": "", "op": "segmentMatch", "values": ["ok", "missing", 7, "gone"]},
            {"attribute": "email", "op": "in", "values": ["missing"]}]}]}),
        json!({"ok": {}, "gone": {"deleted": true}}),
        expect![[r#"
            rules[0].clauses[0].values[1]: segment "missing" does not exist in this environment
            rules[0].clauses[0].values[3]: segment "gone" does not exist in this environment
        "#]],
    );
}

#[test]
fn segments_below_a_flag_form_no_cycle_and_nest_at_most_max_depth() {
    let rule = |key: &str| {
        json!({"rules": [{"id": "r", "variation": 0, "clauses": [
            {"attribute": "", "op": "segmentMatch", "values": [key]}]}]})
    };
    check_flag_segments(
        rule("a"),
        json!({"a": nesting(&["b"]), "b": nesting(&["c", "a"]), "c": {}}),
        expect![[r#"
            rules[0].clauses[0].values[0]: segments form a cycle: a -> b -> a
        "#]],
    );
    check_flag_segments(rule("s1"), segment_chain(1, MAX_DEPTH), expect![[""]]);
    check_flag_segments(
        rule("s1"),
        segment_chain(1, MAX_DEPTH + 1),
        expect![[r#"
            rules[0].clauses[0].values[0]: segments nest too deeply: more than 64 segments in the chain s1 -> s2 -> s3 -> ... -> s63 -> s64 -> s65
        "#]],
    );
}

#[test]
fn a_segment_counts_as_the_first_level_of_its_own_chain() {
    check_segment_segments(
        nesting(&["s1", "missing", "s"]),
        segment_chain(1, MAX_DEPTH - 1),
        expect![[r#"
            rules[0].clauses[0].values[1]: segment "missing" does not exist in this environment
        "#]],
    );
    check_segment_segments(
        nesting(&["s1"]),
        segment_chain(1, MAX_DEPTH),
        expect![[r#"
            rules[0].clauses[0].values[0]: segments nest too deeply: more than 64 segments in the chain s -> s1 -> s2 -> ... -> s62 -> s63 -> s64
        "#]],
    );
    // The stored copy of `s` nests nothing; the written one closes the cycle.
    check_segment_segments(
        nesting(&["a"]),
        json!({"s": {}, "a": nesting(&["s"])}),
        expect![[r#"
            rules[0].clauses[0].values[0]: segments form a cycle: s -> a -> s
        "#]],
    );
}

#[test]
fn validation_agrees_with_evaluation_at_the_nesting_limit() {
    let user = Context::from_json(&json!({"kind": "user", "key": "u"})).unwrap();
    for last in MAX_DEPTH - 1..=MAX_DEPTH + 2 {
        // `p0` -> ... -> `p{last}`, all passing.
        let flags: BTreeMap<String, Flag> = items(prerequisite_chain("p", 0, last), flag);
        let is_valid = validate_prerequisites(&flags["p0"], |key| flags.get(key)).is_empty();
        let data = FlagData::from_all_data(AllData {
            flags: flags.clone(),
            segments: BTreeMap::new(),
        });
        let detail = evaluate(data.flag("p0").unwrap(), &user, &data);
        assert_eq!(
            is_valid,
            !is_malformed(&detail.reason),
            "{} flags",
            last + 1
        );

        // A flag matching `s1`, which nests `s2` ... `s{last}`, which includes `u`.
        let mut chain = segment_chain(1, last);
        chain[format!("s{last}")] = json!({"included": ["u"]});
        let segments: BTreeMap<String, Segment> = items(chain, segment);
        let flag: Flag = serde_json::from_value(flag(json!({"rules": [{"id": "r", "variation": 1,
            "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["s1"]}]}]})))
        .unwrap();
        let is_valid = validate_flag_segment_references(&flag, |key| segments.get(key)).is_empty();
        let data = FlagData::from_all_data(AllData {
            flags: BTreeMap::from([(flag.key.clone(), flag)]),
            segments,
        });
        let detail = evaluate(data.flag("f").unwrap(), &user, &data);
        assert_eq!(is_valid, !is_malformed(&detail.reason), "{last} segments");
    }
}

fn is_malformed(reason: &Reason<'_>) -> bool {
    matches!(
        reason,
        Reason::Error {
            error_kind: ErrorKind::MalformedFlag
        }
    )
}
