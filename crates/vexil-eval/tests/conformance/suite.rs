//! An expanded conformance suite: its JSON shape, the harness's implicit inputs, result comparison.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use vexil_eval::ValueType;

/// A suite after expansion. Other suite properties (`requireCapability`, `skipEvaluateAllFlags`)
/// only concern SDK test services.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suite {
    pub name: String,
    pub sdk_data: Value,
    pub evaluations: Vec<Evaluation>,
}

/// One evaluation. Unknown properties are errors, so an expectation this test does not check
/// cannot be ignored silently.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// Defaults to the flag key, as in the harness.
    #[serde(default)]
    pub name: Option<String>,
    pub flag_key: String,
    /// Older files call it `user`.
    #[serde(alias = "user")]
    pub context: Value,
    #[serde(default)]
    pub default: Value,
    #[serde(default)]
    pub value_type: Option<String>,
    pub expect: Expect,
}

/// The expected result.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variation_index: Option<usize>,
    pub reason: Map<String, Value>,
}

impl Evaluation {
    /// The name used in reports.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.flag_key)
    }

    /// The default value passed to the SDK call. A null default is inferred as the harness does
    /// (`inferDefaultFromFlag`): the zero value of the type of the flag's first variation
    /// (`false`, `0`, `""`), else null. It is not the first variation's value, as the shared
    /// README says: the prerequisite-cycle cases expect `false` from a flag whose first variation
    /// is `true`.
    pub fn default_value(&self, sdk_data: &Value) -> Value {
        if !self.default.is_null() {
            return self.default.clone();
        }
        match &sdk_data["flags"][&self.flag_key]["variations"][0] {
            Value::Bool(_) => json!(false),
            Value::Number(_) => json!(0),
            Value::String(_) => json!(""),
            _ => Value::Null,
        }
    }

    /// The typed call to make. Without `valueType` the harness infers it from the default
    /// (`makeEvalFlagParams`) and calls the SDK's typed variation method.
    pub fn value_type(&self, default: &Value) -> Result<ValueType, String> {
        if let Some(name) = &self.value_type {
            return name.parse();
        }
        Ok(match default {
            Value::Bool(_) => ValueType::Bool,
            Value::Number(number) if number.is_i64() || number.is_u64() => ValueType::Int,
            Value::Number(_) => ValueType::Double,
            Value::String(_) => ValueType::String,
            _ => ValueType::Any,
        })
    }
}

/// What differs between an expectation and an actual result (`{value, variationIndex, reason}`),
/// per the shared README: value (JSON equality, numbers by value), variation index (absent means
/// none), reason `kind` plus the reason properties the expectation names, and `inExperiment` only
/// when it expects `true`.
pub fn mismatches(expect: &Expect, actual: &Value) -> Vec<String> {
    let mut mismatches = Vec::new();
    if !json_equal(&expect.value, &actual["value"]) {
        mismatches.push("value".to_owned());
    }
    let variation_index = actual["variationIndex"]
        .as_u64()
        .and_then(|index| usize::try_from(index).ok());
    if expect.variation_index != variation_index {
        mismatches.push("variationIndex".to_owned());
    }
    let reason = &actual["reason"];
    if !expect.reason.contains_key("kind") {
        mismatches.push("reason.kind (missing from the expectation)".to_owned());
    }
    for property in [
        "kind",
        "ruleIndex",
        "ruleId",
        "prerequisiteKey",
        "errorKind",
    ] {
        if let Some(expected) = expect.reason.get(property) {
            if !json_equal(expected, &reason[property]) {
                mismatches.push(format!("reason.{property}"));
            }
        }
    }
    if expect.reason.get("inExperiment") == Some(&Value::Bool(true))
        && reason["inExperiment"] != true
    {
        mismatches.push("reason.inExperiment".to_owned());
    }
    mismatches
}

/// JSON equality where numbers compare by value (`1` equals `1.0`), as LaunchDarkly's values do.
fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64() == right.as_f64(),
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .zip(right)
                    .all(|(left, right)| json_equal(left, right))
        }
        (Value::Object(left), Value::Object(right)) => {
            left.len() == right.len()
                && left
                    .iter()
                    .all(|(key, left)| right.get(key).is_some_and(|right| json_equal(left, right)))
        }
        (left, right) => left == right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect(expect: Value) -> Expect {
        serde_json::from_value(expect).unwrap()
    }

    /// An actual result as the runner builds it.
    fn result(value: Value, variation_index: Value, reason: Value) -> Value {
        json!({ "value": value, "variationIndex": variation_index, "reason": reason })
    }

    #[test]
    fn compares_value_index_and_named_reason_properties() {
        let expected = expect(json!({
            "value": 1,
            "variationIndex": 0,
            "reason": { "kind": "RULE_MATCH", "ruleIndex": 0 },
        }));
        let rule_0 = json!({ "kind": "RULE_MATCH", "ruleIndex": 0 });
        let cases = [
            (
                result(
                    json!(1.0),
                    json!(0),
                    json!({ "kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "x" }),
                ),
                vec![],
            ),
            (result(json!(2), json!(0), rule_0.clone()), vec!["value"]),
            (
                result(json!(1), Value::Null, rule_0.clone()),
                vec!["variationIndex"],
            ),
            (
                result(
                    json!(1),
                    json!(0),
                    json!({ "kind": "RULE_MATCH", "ruleIndex": 1 }),
                ),
                vec!["reason.ruleIndex"],
            ),
            (
                result(json!(1), json!(0), json!({ "kind": "FALLTHROUGH" })),
                vec!["reason.kind", "reason.ruleIndex"],
            ),
        ];
        for (actual, expected_mismatches) in cases {
            assert_eq!(
                mismatches(&expected, &actual),
                expected_mismatches,
                "{actual}"
            );
        }
    }

    #[test]
    fn in_experiment_is_checked_only_when_expected_true() {
        let not_expected = expect(json!({ "value": true, "reason": { "kind": "FALLTHROUGH" } }));
        let expected = expect(json!({
            "value": true,
            "reason": { "kind": "FALLTHROUGH", "inExperiment": true },
        }));
        let plain = result(json!(true), Value::Null, json!({ "kind": "FALLTHROUGH" }));
        let tracked = result(
            json!(true),
            Value::Null,
            json!({ "kind": "FALLTHROUGH", "inExperiment": true }),
        );
        assert!(mismatches(&not_expected, &plain).is_empty());
        assert!(mismatches(&not_expected, &tracked).is_empty());
        assert!(mismatches(&expected, &tracked).is_empty());
        assert_eq!(mismatches(&expected, &plain), ["reason.inExperiment"]);
    }

    #[test]
    fn infers_default_and_value_type_like_the_harness() {
        let sdk_data = json!({ "flags": {
            "bool": { "variations": [true, false] },
            "number": { "variations": [1.5] },
            "string": { "variations": ["a"] },
            "object": { "variations": [{}] },
            "none": {},
        } });
        let cases = [
            ("bool", json!(false), ValueType::Bool),
            ("number", json!(0), ValueType::Int),
            ("string", json!(""), ValueType::String),
            ("object", Value::Null, ValueType::Any),
            ("none", Value::Null, ValueType::Any),
            ("unknown", Value::Null, ValueType::Any),
        ];
        for (flag_key, expected_default, expected_type) in cases {
            let evaluation: Evaluation = serde_json::from_value(json!({
                "flagKey": flag_key, "context": {}, "expect": { "reason": { "kind": "OFF" } },
            }))
            .unwrap();
            let default = evaluation.default_value(&sdk_data);
            assert_eq!(default, expected_default, "{flag_key}");
            assert_eq!(
                evaluation.value_type(&default),
                Ok(expected_type),
                "{flag_key}"
            );
        }
        let double: Evaluation = serde_json::from_value(json!({
            "flagKey": "number", "context": {}, "default": 0.5,
            "expect": { "reason": { "kind": "OFF" } },
        }))
        .unwrap();
        assert_eq!(
            double.value_type(&double.default_value(&sdk_data)),
            Ok(ValueType::Double)
        );
    }
}
