//! Properties of evaluation and bucketing that must hold for any flag and context (proptest).

use proptest::prelude::*;
use serde_json::{json, Value};
use vexil_eval::{bucketing, evaluate, AllData, Context, FlagData, Reason, Store};

fn data_with(flag: Value) -> FlagData {
    FlagData::from_all_data(
        serde_json::from_value::<AllData>(json!({"flags": {"f": flag}, "segments": {}})).unwrap(),
    )
}

fn user(key: &str, plan: &str) -> Context {
    Context::from_json(&json!({"kind": "user", "key": key, "plan": plan})).unwrap()
}

/// Context keys: short printable strings, including `:` and `%` which canonical keys escape.
fn any_key() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9:%._-]{1,24}"
}

/// Rollout weights: 1 to 5 buckets, each 0..=100000.
fn any_weights() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::vec(0i64..=100_000, 1..5)
}

/// A flag with a target list, one rule on `plan` and a rollout fallthrough over `weights`.
fn layered_flag(on: bool, targets: &[String], weights: &[i64]) -> Value {
    let buckets: Vec<Value> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| json!({"variation": i % 3, "weight": w}))
        .collect();
    json!({"key": "f", "on": on, "salt": "s", "offVariation": 2, "variations": ["target", "rule", "off"],
        "targets": [{"values": targets, "variation": 0}],
        "rules": [{"id": "r", "variation": 1, "clauses": [
            {"contextKind": "user", "attribute": "plan", "op": "in", "values": ["pro"], "negate": false}]}],
        "fallthrough": {"rollout": {"variations": buckets}}})
}

proptest! {
    #[test]
    fn the_same_flag_and_context_always_give_the_same_result(
        key in any_key(), plan in "(pro|free)", weights in any_weights(), on in any::<bool>()
    ) {
        let data = data_with(layered_flag(on, &[], &weights));
        let context = user(&key, &plan);
        let first = evaluate(data.flag("f").unwrap(), &context, &data);
        let second = evaluate(data.flag("f").unwrap(), &context, &data);
        prop_assert_eq!(first, second);
    }

    #[test]
    fn a_bucket_is_in_range_and_ignores_unrelated_attributes(
        key in any_key(), salt in "[a-z]{0,8}", plan in "[a-z]{0,8}"
    ) {
        let prefix = format!("flag.{salt}");
        let value = bucketing::bucket(&prefix, &key);
        prop_assert!((0.0..=1.0).contains(&value));
        let weights = [50_000, 50_000];
        let data = data_with(layered_flag(true, &[], &weights));
        let plain = evaluate(data.flag("f").unwrap(), &user(&key, "free"), &data).variation_index;
        let other = evaluate(data.flag("f").unwrap(), &user(&key, &format!("x{plan}")), &data).variation_index;
        prop_assert_eq!(plain, other);
    }

    #[test]
    fn an_off_flag_serves_its_off_variation(key in any_key(), plan in "(pro|free)", weights in any_weights()) {
        let data = data_with(layered_flag(false, std::slice::from_ref(&key), &weights));
        let detail = evaluate(data.flag("f").unwrap(), &user(&key, &plan), &data);
        prop_assert_eq!(detail.variation_index, Some(2));
        prop_assert_eq!(detail.reason, Reason::Off);
    }

    #[test]
    fn targets_beat_rules_and_rules_beat_fallthrough(key in any_key(), weights in any_weights()) {
        let targeted = data_with(layered_flag(true, std::slice::from_ref(&key), &weights));
        let detail = evaluate(targeted.flag("f").unwrap(), &user(&key, "pro"), &targeted);
        prop_assert_eq!(detail.reason, Reason::TargetMatch);
        let untargeted = data_with(layered_flag(true, &[], &weights));
        let detail = evaluate(untargeted.flag("f").unwrap(), &user(&key, "pro"), &untargeted);
        prop_assert_eq!(detail.reason, Reason::RuleMatch { rule_index: 0, rule_id: "r", in_experiment: false });
        let detail = evaluate(untargeted.flag("f").unwrap(), &user(&key, "free"), &untargeted);
        prop_assert_eq!(detail.reason, Reason::Fallthrough { in_experiment: false });
    }
}

/// Over 100,000 keys, each bucket's share is within 1 percentage point of its weight.
#[test]
fn rollout_shares_stay_within_tolerance_of_the_weights() {
    const KEYS: usize = 100_000;
    for weights in [
        vec![50_000, 50_000],
        vec![10_000, 20_000, 70_000],
        vec![1_000, 99_000],
        vec![33_333, 33_333, 33_334],
    ] {
        let buckets: Vec<Value> = weights
            .iter()
            .enumerate()
            .map(|(i, w)| json!({"variation": i, "weight": w}))
            .collect();
        let variations: Vec<Value> = (0..weights.len()).map(|i| json!(i)).collect();
        let data = data_with(
            json!({"key": "f", "on": true, "salt": "share", "variations": variations,
            "fallthrough": {"rollout": {"variations": buckets}}}),
        );
        let flag = data.flag("f").unwrap();
        let mut counts = vec![0usize; weights.len()];
        for i in 0..KEYS {
            let context = Context::new("user", &format!("user-{i}")).unwrap();
            counts[evaluate(flag, &context, &data).variation_index.unwrap()] += 1;
        }
        for (count, weight) in counts.iter().zip(&weights) {
            let share = *count as f64 / KEYS as f64;
            let expected = *weight as f64 / 100_000.0;
            assert!(
                (share - expected).abs() < 0.01,
                "weights {weights:?}: share {share} vs {expected}"
            );
        }
    }
}
