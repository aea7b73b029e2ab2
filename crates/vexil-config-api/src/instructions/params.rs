//! Instruction parameters shared by several instructions: clauses, rollouts, rules, targets.
//!
//! These mirror the LaunchDarkly JSON of `vexil_eval`'s model types but are strict where the
//! model is lenient: the model ignores unknown fields and reads an unknown rollout `kind` as
//! `"rollout"` (as SDKs must), which in a request would silently drop a misspelled `negate` or
//! `bucketBy`. Here every unknown field is a decoding error, and variation indices and weights
//! cannot be negative.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vexil_eval::{Clause, Rollout, RolloutKind, WeightedVariation};

/// The context kind of clauses that name none, and of target lists that name none.
pub(super) const USER_KIND: &str = "user";

/// A clause (spec 1.5): `{"contextKind": "user", "attribute": "email", "op": "endsWith",
/// "values": ["@vexil.dev"], "negate": false}`.
///
/// An absent `contextKind` is stored as `"user"`, so `attribute` is always read as an attribute
/// reference (`/address/city`), never by the legacy literal-name rule (spec 1.10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClauseParam {
    /// Context kind; absent means `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Attribute reference; may be absent for `segmentMatch`.
    #[serde(default)]
    pub attribute: String,
    /// Operator name.
    pub op: String,
    /// OR-ed comparison values.
    pub values: Vec<Value>,
    /// Inverts the result.
    #[serde(default)]
    pub negate: bool,
}

impl ClauseParam {
    pub(super) fn to_clause(&self) -> Clause {
        Clause {
            context_kind: Some(
                self.context_kind
                    .clone()
                    .unwrap_or_else(|| USER_KIND.to_owned()),
            ),
            attribute: self.attribute.clone(),
            op: self.op.clone(),
            values: self.values.clone(),
            negate: self.negate,
        }
    }
}

/// A percentage rollout (spec 1.2): `{"variations": [{"variation": 0, "weight": 40000},
/// {"variation": 1, "weight": 60000}], "contextKind": "user", "bucketBy": "key", "seed": 7}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutParam {
    /// Buckets, in order; weights are shares of 100000.
    pub variations: Vec<BucketParam>,
    /// `"rollout"` (the default) or `"experiment"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RolloutKind>,
    /// Which individual context is bucketed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Attribute hashed; absent means `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// Replaces `flagKey.salt` as the hash prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

impl RolloutParam {
    pub(super) fn to_rollout(&self) -> Rollout {
        Rollout {
            variations: self
                .variations
                .iter()
                .map(|bucket| WeightedVariation {
                    variation: index(bucket.variation),
                    weight: i64::from(bucket.weight),
                    untracked: bucket.untracked,
                })
                .collect(),
            kind: self.kind,
            context_kind: self.context_kind.clone(),
            bucket_by: self.bucket_by.clone(),
            seed: self.seed,
        }
    }
}

/// One bucket of a rollout: `{"variation": 1, "weight": 60000}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BucketParam {
    /// Variation index served from this bucket.
    pub variation: usize,
    /// Share of 100000.
    pub weight: u32,
    /// An untracked bucket of an experiment is not "in experiment".
    #[serde(default, skip_serializing_if = "is_false")]
    pub untracked: bool,
}

/// A flag rule as `replaceRules` takes it: `{"ruleId": "beta", "clauses": [...],
/// "variation": 1}`, with `rollout` in place of `variation` for a percentage rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleParam {
    /// Rule id; absent means a new generated id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// AND-ed clauses; empty matches every context.
    pub clauses: Vec<ClauseParam>,
    /// Variation served; exactly one of `variation` and `rollout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variation: Option<usize>,
    /// Rollout served; exactly one of `variation` and `rollout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<RolloutParam>,
    /// Full events for evaluations matching the rule.
    #[serde(default, skip_serializing_if = "is_false")]
    pub track_events: bool,
}

/// One target list: `{"contextKind": "team", "variation": 1, "values": ["qa"]}`; an absent
/// `contextKind` means `user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetParam {
    /// Context kind; absent means `user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Variation index served to these keys.
    pub variation: usize,
    /// Context keys.
    pub values: Vec<String>,
}

/// A prerequisite: `{"key": "payments-enabled", "variation": 1}`, where `variation` is an
/// index into the variations of the *prerequisite* flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrerequisiteParam {
    /// Key of the prerequisite flag.
    pub key: String,
    /// Variation index the prerequisite flag must return.
    pub variation: usize,
}

/// A variation index as the model stores it. An index beyond `i64` saturates: it is out of
/// range either way, and checks or validation report it.
pub(super) fn index(variation: usize) -> i64 {
    i64::try_from(variation).unwrap_or(i64::MAX)
}

fn is_false(value: &bool) -> bool {
    !*value
}
