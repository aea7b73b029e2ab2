//! LaunchDarkly reasons as OFREP reasons and flat metadata (spec 8.3).

use serde::Serialize;
use vexil_eval::{Flag, Reason};

/// An OFREP `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfrepReason {
    /// The fallthrough served a fixed variation.
    Static,
    /// A target, or a rule with a fixed variation, matched.
    TargetingMatch,
    /// A percentage rollout or experiment chose the variation.
    Split,
    /// The flag is off, or a prerequisite failed.
    Disabled,
    /// Anything else.
    Unknown,
}

/// Vexil's mapping of spec 8.3: `OFF` and `PREREQUISITE_FAILED` -> `DISABLED`, `TARGET_MATCH`
/// -> `TARGETING_MATCH`, `RULE_MATCH` -> `TARGETING_MATCH` or `SPLIT` and `FALLTHROUGH` ->
/// `STATIC` or `SPLIT` depending on whether the rule or fallthrough serves a fixed variation
/// or a rollout, anything else -> `UNKNOWN`.
pub fn ofrep_reason(flag: &Flag, reason: &Reason<'_>) -> OfrepReason {
    match *reason {
        Reason::Off | Reason::PrerequisiteFailed { .. } => OfrepReason::Disabled,
        Reason::TargetMatch => OfrepReason::TargetingMatch,
        Reason::RuleMatch { rule_index, .. } => {
            // `variation` wins over `rollout` when both are set, as in evaluation.
            let is_fixed = flag
                .rules
                .get(rule_index)
                .is_some_and(|rule| rule.variation_or_rollout.variation.is_some());
            if is_fixed {
                OfrepReason::TargetingMatch
            } else {
                OfrepReason::Split
            }
        }
        Reason::Fallthrough { .. } if flag.fallthrough.variation.is_some() => OfrepReason::Static,
        Reason::Fallthrough { .. } => OfrepReason::Split,
        Reason::Error { .. } => OfrepReason::Unknown,
    }
}

/// The flat `metadata` of an OFREP success (values are strings, numbers or booleans only):
/// `flagVersion`, `ldReasonKind`, and as the reason has them `ruleIndex`, `ruleId` (omitted
/// when empty, like in the reason JSON), `prerequisiteKey`, `inExperiment` (only when true).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfrepMetadata<'a> {
    /// The flag's version.
    pub flag_version: u64,
    /// The LaunchDarkly reason kind (`RULE_MATCH`, ...).
    pub ld_reason_kind: &'static str,
    /// The index of the matching rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    /// The id of the matching rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<&'a str>,
    /// The prerequisite that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prerequisite_key: Option<&'a str>,
    /// The result came from a tracked experiment bucket.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_experiment: bool,
}

impl<'a> OfrepMetadata<'a> {
    /// The metadata of an evaluation of `flag` that gave `reason`.
    pub fn new(flag: &Flag, reason: &Reason<'a>) -> Self {
        let mut metadata = Self {
            flag_version: flag.version,
            ld_reason_kind: reason.kind(),
            rule_index: None,
            rule_id: None,
            prerequisite_key: None,
            in_experiment: reason.is_in_experiment(),
        };
        match *reason {
            Reason::RuleMatch {
                rule_index,
                rule_id,
                ..
            } => {
                metadata.rule_index = Some(rule_index);
                metadata.rule_id = (!rule_id.is_empty()).then_some(rule_id);
            }
            Reason::PrerequisiteFailed { prerequisite_key } => {
                metadata.prerequisite_key = Some(prerequisite_key);
            }
            _ => {}
        }
        metadata
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use vexil_eval::ErrorKind;

    use super::*;

    #[test]
    fn reasons_map_by_kind_and_by_how_the_variation_was_chosen() {
        let flag: Flag = serde_json::from_value(json!({
            "fallthrough": {"variation": 0},
            "rules": [{"variation": 1}, {"rollout": {"variations": [{"variation": 0, "weight": 1}]}},
                {"variation": 0, "rollout": {"variations": []}}]
        }))
        .unwrap();
        let rollout_fallthrough: Flag = serde_json::from_value(
            json!({"fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 1}]}}}),
        )
        .unwrap();
        let rule = |rule_index| Reason::RuleMatch {
            rule_index,
            rule_id: "",
            in_experiment: false,
        };
        let fallthrough = Reason::Fallthrough {
            in_experiment: false,
        };
        let cases = [
            (&flag, Reason::Off, OfrepReason::Disabled),
            (
                &flag,
                Reason::PrerequisiteFailed {
                    prerequisite_key: "p",
                },
                OfrepReason::Disabled,
            ),
            (&flag, Reason::TargetMatch, OfrepReason::TargetingMatch),
            (&flag, rule(0), OfrepReason::TargetingMatch),
            (&flag, rule(1), OfrepReason::Split),
            (&flag, rule(2), OfrepReason::TargetingMatch),
            (&flag, fallthrough, OfrepReason::Static),
            (&rollout_fallthrough, fallthrough, OfrepReason::Split),
            (
                &flag,
                Reason::Error {
                    error_kind: ErrorKind::Exception,
                },
                OfrepReason::Unknown,
            ),
        ];
        for (flag, reason, expected) in cases {
            assert_eq!(ofrep_reason(flag, &reason), expected, "{reason:?}");
        }
    }

    #[test]
    fn metadata_is_flat_and_omits_what_the_reason_lacks() {
        let flag = Flag {
            version: 7,
            ..Flag::default()
        };
        let metadata = |reason: Reason<'static>| {
            serde_json::to_value(OfrepMetadata::new(&flag, &reason)).unwrap()
        };
        assert_eq!(
            metadata(Reason::RuleMatch {
                rule_index: 0,
                rule_id: "7c1f0e2a-rule-beta",
                in_experiment: true
            }),
            json!({"flagVersion": 7, "ldReasonKind": "RULE_MATCH", "ruleIndex": 0,
                "ruleId": "7c1f0e2a-rule-beta", "inExperiment": true})
        );
        assert_eq!(
            metadata(Reason::RuleMatch {
                rule_index: 2,
                rule_id: "",
                in_experiment: false
            }),
            json!({"flagVersion": 7, "ldReasonKind": "RULE_MATCH", "ruleIndex": 2})
        );
        assert_eq!(
            metadata(Reason::PrerequisiteFailed {
                prerequisite_key: "payments"
            }),
            json!({"flagVersion": 7, "ldReasonKind": "PREREQUISITE_FAILED", "prerequisiteKey": "payments"})
        );
        assert_eq!(
            metadata(Reason::Off),
            json!({"flagVersion": 7, "ldReasonKind": "OFF"})
        );
        let all_flat = |value: Value| {
            value
                .as_object()
                .unwrap()
                .values()
                .all(|value| !value.is_object() && !value.is_array())
        };
        assert!(all_flat(metadata(Reason::TargetMatch)));
    }
}
