//! The flags, segment and contexts the Python SDK and `vexil-eval` evaluate: together they
//! reach every kind of evaluation outcome.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::harness::ConfigApi;

/// Guards the fixture: the comparison means little unless it reaches every kind of outcome.
pub fn assert_covers_every_outcome(expected: &[Value]) {
    let outcomes: BTreeSet<String> = expected
        .iter()
        .map(|detail| {
            let reason = &detail["reason"];
            match (&reason["errorKind"], &reason["inExperiment"]) {
                (Value::String(error), _) => format!("ERROR {error}"),
                (_, Value::Bool(true)) => format!("{} inExperiment", reason["kind"]),
                _ => reason["kind"].as_str().unwrap().to_owned(),
            }
        })
        .collect();
    let wanted = [
        "OFF",
        "TARGET_MATCH",
        "RULE_MATCH",
        "FALLTHROUGH",
        "\"FALLTHROUGH\" inExperiment",
        "PREREQUISITE_FAILED",
        "ERROR FLAG_NOT_FOUND",
        "ERROR USER_NOT_SPECIFIED",
    ];
    for outcome in wanted {
        assert!(
            outcomes.contains(outcome),
            "no {outcome} among {outcomes:?}"
        );
    }
    let served: BTreeSet<String> = expected
        .iter()
        .filter(|detail| detail["reason"]["kind"] != "ERROR")
        .map(|detail| detail["value"].to_string())
        .collect();
    for value in ["\"free\"", "\"pro\"", "\"enterprise\""] {
        assert!(served.contains(value), "no {value} served: {served:?}");
    }
}

pub fn user(key: &str) -> Value {
    json!({"kind": "user", "key": key})
}

/// Contexts reaching each target, rule, segment and rollout bucket of the flags below.
pub fn contexts() -> Vec<Value> {
    let mut contexts = vec![
        user("alice"),
        user("bob"),
        json!({"kind": "user", "key": "carol", "email": "carol@example.com"}),
        json!({"kind": "user", "key": "dave", "email": "dave@beta.example"}),
        json!({"kind": "user", "key": "erik", "country": "de"}),
        json!({"kind": "user", "key": "fatima", "country": "fr", "name": "Fatima"}),
        json!({"kind": "multi", "user": {"key": "gus"}, "org": {"key": "acme", "tier": "2.1.0"}}),
        json!({"kind": "org", "key": "initech", "tier": "3.0.0"}),
        json!({"kind": "org", "key": "globex", "tier": "1.0.0"}),
        // No key: an invalid context.
        json!({"kind": "user", "name": "nobody"}),
    ];
    contexts.extend((1..=12).map(|index| user(&format!("user-{index}"))));
    contexts
}

/// Flags with targets, context targets, rules on attributes, segments and other context
/// kinds, rollouts and an experiment, a prerequisite, an off flag and one to delete.
pub async fn create_flags(config_api: &ConfigApi) {
    config_api
        .segment(json!({
            "key": "beta",
            "name": "Beta",
            "included": ["bob"],
            "rules": [{
                "id": "beta-mail",
                "clauses": [{
                    "contextKind": "user",
                    "attribute": "email",
                    "op": "endsWith",
                    "values": ["@beta.example"],
                    "negate": false,
                }],
            }],
        }))
        .await;

    config_api
        .flag_with(json!({
            "key": "plan",
            "name": "Plan",
            "variations": [{"value": "free"}, {"value": "pro"}, {"value": "enterprise"}],
        }))
        .await;
    let clause = |context_kind: &str, attribute: &str, op: &str, values: Value| json!({"contextKind": context_kind, "attribute": attribute, "op": op, "values": values});
    config_api
        .patch_flag(
            "plan",
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "updateOffVariation", "variation": 0},
                {"kind": "addTargets", "variation": 2, "values": ["alice"]},
                {"kind": "addTargets", "contextKind": "org", "variation": 1, "values": ["acme"]},
                {"kind": "addRule", "ruleId": "corporate-mail", "variation": 1,
                 "clauses": [clause("user", "email", "endsWith", json!(["@example.com"]))]},
                {"kind": "addRule", "ruleId": "beta-testers", "variation": 2,
                 "clauses": [clause("user", "", "segmentMatch", json!(["beta"]))]},
                {"kind": "addRule", "ruleId": "europe",
                 "clauses": [clause("user", "country", "in", json!(["de", "fr"]))],
                 "rollout": {"variations": [{"variation": 0, "weight": 60000},
                                            {"variation": 1, "weight": 40000}]}},
                {"kind": "addRule", "ruleId": "big-orgs", "variation": 2,
                 "clauses": [clause("org", "tier", "semVerGreaterThan", json!(["2.0.0"]))]},
                {"kind": "updateFallthroughVariationOrRollout",
                 "rollout": {"variations": [{"variation": 0, "weight": 50000},
                                            {"variation": 1, "weight": 30000},
                                            {"variation": 2, "weight": 20000}]}},
            ]),
        )
        .await;

    config_api
        .flag_with(json!({
            "key": "banner",
            "name": "Banner",
            "variations": [
                {"value": {"text": "Welcome back", "color": "blue"}},
                {"value": {"text": "Upgrade now", "color": "red"}},
            ],
        }))
        .await;
    config_api
        .patch_flag(
            "banner",
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "addPrerequisite", "key": "plan", "variation": 1},
                {"kind": "updateFallthroughVariationOrRollout", "variation": 0},
                {"kind": "updateOffVariation", "variation": 1},
            ]),
        )
        .await;

    config_api
        .flag_with(json!({"key": "checkout", "name": "Checkout"}))
        .await;
    config_api
        .patch_flag(
            "checkout",
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "addRule", "ruleId": "partners", "variation": 0,
                 "clauses": [clause("org", "key", "in", json!(["acme", "globex"]))]},
                {"kind": "updateFallthroughVariationOrRollout",
                 "rollout": {"kind": "experiment", "seed": 42,
                             "variations": [{"variation": 0, "weight": 50000},
                                            {"variation": 1, "weight": 50000}]}},
                {"kind": "updateOffVariation", "variation": 1},
            ]),
        )
        .await;

    config_api
        .flag_with(json!({
            "key": "limit",
            "name": "Limit",
            "variations": [{"value": 10}, {"value": 100}, {"value": 1000}],
            "defaults": {"onVariation": 2, "offVariation": 1},
        }))
        .await;

    config_api
        .flag_with(json!({"key": "retired", "name": "Retired"}))
        .await;
    config_api
        .patch_flag(
            "retired",
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "updateFallthroughVariationOrRollout", "variation": 0},
            ]),
        )
        .await;
}
