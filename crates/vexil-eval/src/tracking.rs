//! Whether an evaluation is part of an experiment, which decides full events and reasons (spec 3.10).

use crate::model::Flag;
use crate::reason::Reason;

/// Whether the evaluation of `flag` that gave `reason` is tracked as an experiment: the reason
/// is `inExperiment`, or it is a fallthrough of a flag with `trackEventsFallthrough`, or it is a
/// match of a rule with `trackEvents` (spec 3.10).
///
/// SDKs send a full feature event, with its reason, when this is true (or `flag.trackEvents`
/// is set); client-side payloads set `trackEvents` and `trackReason` from it (spec 7.3).
pub fn is_experiment(flag: &Flag, reason: &Reason<'_>) -> bool {
    if reason.is_in_experiment() {
        return true;
    }
    match *reason {
        Reason::Fallthrough { .. } => flag.track_events_fallthrough,
        Reason::RuleMatch { rule_index, .. } => flag
            .rules
            .get(rule_index)
            .is_some_and(|rule| rule.track_events),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn experiments_are_in_experiment_reasons_and_tracked_rules_or_fallthroughs() {
        let flag: Flag = serde_json::from_value(json!({
            "key": "f", "trackEventsFallthrough": true,
            "rules": [{"id": "a", "trackEvents": false}, {"id": "b", "trackEvents": true}]
        }))
        .unwrap();
        let plain = Flag::default();
        let rule = |rule_index, in_experiment| Reason::RuleMatch {
            rule_index,
            rule_id: "",
            in_experiment,
        };
        let fallthrough = |in_experiment| Reason::Fallthrough { in_experiment };
        let cases = [
            (&flag, fallthrough(false), true),
            (&plain, fallthrough(false), false),
            (&plain, fallthrough(true), true),
            (&flag, rule(0, false), false),
            (&flag, rule(0, true), true),
            (&flag, rule(1, false), true),
            (&flag, rule(7, false), false),
            (&flag, Reason::TargetMatch, false),
            (&flag, Reason::Off, false),
        ];
        for (flag, reason, expected) in cases {
            assert_eq!(is_experiment(flag, &reason), expected, "{reason:?}");
        }
    }
}
