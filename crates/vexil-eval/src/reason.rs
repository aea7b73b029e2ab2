//! The result of an evaluation: value, variation index and LaunchDarkly reason (spec 3.1).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// What an evaluation produced. Everything is borrowed from the prepared data (and, for the SDK
/// entry point, from the caller's default), so producing one allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvaluationDetail<'a> {
    /// The value served, or `None` when there is no variation (the caller serves its default).
    /// [`crate::variation_detail`] always fills it, with the default when needed.
    pub value: Option<&'a Value>,
    /// Index of the variation served, if any.
    pub variation_index: Option<usize>,
    /// Why this value was served.
    pub reason: Reason<'a>,
}

impl<'a> EvaluationDetail<'a> {
    /// A result without a variation, for the given error.
    pub fn error(error_kind: ErrorKind) -> Self {
        Self {
            value: None,
            variation_index: None,
            reason: Reason::Error { error_kind },
        }
    }
}

/// Why a value was served (spec 3.1). Serializes to LaunchDarkly's reason JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'a> {
    /// The flag is off.
    Off,
    /// No target or rule matched.
    Fallthrough {
        /// The result came from a tracked bucket of an experiment.
        in_experiment: bool,
    },
    /// The context's key is in a target list.
    TargetMatch,
    /// A rule matched.
    RuleMatch {
        /// Zero-based index of the rule.
        rule_index: usize,
        /// The rule's id (omitted from JSON when empty).
        rule_id: &'a str,
        /// The result came from a tracked bucket of an experiment.
        in_experiment: bool,
    },
    /// A prerequisite was missing, off, or returned another variation.
    PrerequisiteFailed {
        /// Key of the direct prerequisite that failed.
        prerequisite_key: &'a str,
    },
    /// The evaluation could not be done.
    Error {
        /// What went wrong.
        error_kind: ErrorKind,
    },
}

impl Reason<'_> {
    /// The reason's `kind` as LaunchDarkly spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Off => "OFF",
            Reason::Fallthrough { .. } => "FALLTHROUGH",
            Reason::TargetMatch => "TARGET_MATCH",
            Reason::RuleMatch { .. } => "RULE_MATCH",
            Reason::PrerequisiteFailed { .. } => "PREREQUISITE_FAILED",
            Reason::Error { .. } => "ERROR",
        }
    }

    /// Whether the result came from a tracked experiment bucket.
    pub fn is_in_experiment(&self) -> bool {
        matches!(
            self,
            Reason::Fallthrough {
                in_experiment: true
            } | Reason::RuleMatch {
                in_experiment: true,
                ..
            }
        )
    }
}

impl Serialize for Reason<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", self.kind())?;
        match *self {
            Reason::Off | Reason::TargetMatch => {}
            Reason::Fallthrough { in_experiment } => {
                if in_experiment {
                    map.serialize_entry("inExperiment", &true)?;
                }
            }
            Reason::RuleMatch {
                rule_index,
                rule_id,
                in_experiment,
            } => {
                map.serialize_entry("ruleIndex", &rule_index)?;
                if !rule_id.is_empty() {
                    map.serialize_entry("ruleId", rule_id)?;
                }
                if in_experiment {
                    map.serialize_entry("inExperiment", &true)?;
                }
            }
            Reason::PrerequisiteFailed { prerequisite_key } => {
                map.serialize_entry("prerequisiteKey", prerequisite_key)?;
            }
            Reason::Error { error_kind } => {
                map.serialize_entry("errorKind", error_kind.as_str())?
            }
        }
        map.end()
    }
}

/// The `errorKind` of an `ERROR` reason (spec 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The SDK has no data yet.
    ClientNotReady,
    /// No such flag (or it was deleted).
    FlagNotFound,
    /// The flag's data is invalid (bad index, bad attribute reference, cycle, empty rollout).
    MalformedFlag,
    /// The context is invalid.
    UserNotSpecified,
    /// A typed evaluation's result has another JSON type.
    WrongType,
    /// An unexpected failure.
    Exception,
}

impl ErrorKind {
    /// The `errorKind` as LaunchDarkly spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::ClientNotReady => "CLIENT_NOT_READY",
            ErrorKind::FlagNotFound => "FLAG_NOT_FOUND",
            ErrorKind::MalformedFlag => "MALFORMED_FLAG",
            ErrorKind::UserNotSpecified => "USER_NOT_SPECIFIED",
            ErrorKind::WrongType => "WRONG_TYPE",
            ErrorKind::Exception => "EXCEPTION",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialize_as_launchdarkly_json() {
        let cases = [
            (Reason::Off, r#"{"kind":"OFF"}"#),
            (
                Reason::Fallthrough {
                    in_experiment: false,
                },
                r#"{"kind":"FALLTHROUGH"}"#,
            ),
            (
                Reason::Fallthrough {
                    in_experiment: true,
                },
                r#"{"kind":"FALLTHROUGH","inExperiment":true}"#,
            ),
            (Reason::TargetMatch, r#"{"kind":"TARGET_MATCH"}"#),
            (
                Reason::RuleMatch {
                    rule_index: 2,
                    rule_id: "r-eu",
                    in_experiment: true,
                },
                r#"{"kind":"RULE_MATCH","ruleIndex":2,"ruleId":"r-eu","inExperiment":true}"#,
            ),
            (
                Reason::RuleMatch {
                    rule_index: 0,
                    rule_id: "",
                    in_experiment: false,
                },
                r#"{"kind":"RULE_MATCH","ruleIndex":0}"#,
            ),
            (
                Reason::PrerequisiteFailed {
                    prerequisite_key: "payments-enabled",
                },
                r#"{"kind":"PREREQUISITE_FAILED","prerequisiteKey":"payments-enabled"}"#,
            ),
            (
                Reason::Error {
                    error_kind: ErrorKind::MalformedFlag,
                },
                r#"{"kind":"ERROR","errorKind":"MALFORMED_FLAG"}"#,
            ),
        ];
        for (reason, expected) in cases {
            assert_eq!(serde_json::to_string(&reason).unwrap(), expected);
        }
    }
}
