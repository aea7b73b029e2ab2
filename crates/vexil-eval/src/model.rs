//! The LaunchDarkly-compatible JSON model of flags and segments (spec section 1), as stored and sent to SDKs.
//!
//! These types are plain data: they decode whatever a LaunchDarkly data source would accept
//! (missing fields take their zero values, `null` means absent) and encode every field the spec
//! marks "emit always". Unknown input fields are ignored (spec 1: nothing in Vexil reads them,
//! and Vexil is the system of record, so there is nothing to pass through). Indices and weights
//! are kept as `i64` so that a malformed value (negative, out of range) survives decoding and
//! is reported by evaluation as `MALFORMED_FLAG`, exactly as LaunchDarkly SDKs do.
//!
//! Evaluation never reads these types directly: [`crate::PreparedFlag`] and
//! [`crate::PreparedSegment`] are built from them once.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A feature flag as LaunchDarkly SDKs receive it (spec 1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    /// Flag key, unique per environment.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// Increases on every change.
    #[serde(default, deserialize_with = "null_default")]
    pub version: u64,
    /// The targeting switch.
    #[serde(default, deserialize_with = "null_default")]
    pub on: bool,
    /// The possible values, addressed by index.
    #[serde(default, deserialize_with = "null_default")]
    pub variations: Vec<Value>,
    /// Index served when the flag is off or a prerequisite failed.
    #[serde(default)]
    pub off_variation: Option<i64>,
    /// Served when no target or rule matched.
    #[serde(default, deserialize_with = "null_default")]
    pub fallthrough: VariationOrRollout,
    /// Legacy targets of `user` contexts.
    #[serde(default, deserialize_with = "null_default")]
    pub targets: Vec<Target>,
    /// Targets of any context kind (spec 1.3 for the `user` placeholder rule).
    #[serde(default, deserialize_with = "null_default")]
    pub context_targets: Vec<Target>,
    /// Ordered targeting rules.
    #[serde(default, deserialize_with = "null_default")]
    pub rules: Vec<FlagRule>,
    /// Flags that must return a given variation first.
    #[serde(default, deserialize_with = "null_default")]
    pub prerequisites: Vec<Prerequisite>,
    /// Per-flag hashing salt.
    #[serde(default, deserialize_with = "null_default")]
    pub salt: String,
    /// Send full feature events for every evaluation.
    #[serde(default, deserialize_with = "null_default")]
    pub track_events: bool,
    /// Send full feature events for fallthrough results.
    #[serde(default, deserialize_with = "null_default")]
    pub track_events_fallthrough: bool,
    /// Debug events are sent until this time (Unix epoch milliseconds).
    #[serde(default)]
    pub debug_events_until_date: Option<i64>,
    /// Which client-side SDKs may see the flag, as given. Absent on input means "derive it from
    /// `clientSide`" (spec 1.1); [`Flag::canonicalize`] fills it in, and Vexil emits canonical
    /// flags only, so the field is always present in what Vexil sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_side_availability: Option<ClientSideAvailability>,
    /// Legacy copy of `clientSideAvailability.usingEnvironmentId`.
    #[serde(default, deserialize_with = "null_default")]
    pub client_side: bool,
    /// `true` only in tombstones.
    #[serde(default, deserialize_with = "null_default")]
    pub deleted: bool,
    /// Event sampling ratio (emitted only when set and not 1).
    #[serde(default, skip_serializing_if = "is_absent_or_one")]
    pub sampling_ratio: Option<i64>,
    /// Evaluations are not counted in summary events (emitted only when `true`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub exclude_from_summaries: bool,
    /// Migration settings (emitted only for migration flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<Migration>,
}

impl Flag {
    /// Every JSON field name of a flag, in schema order.
    pub const FIELDS: &'static [&'static str] = &[
        "key",
        "version",
        "on",
        "variations",
        "offVariation",
        "fallthrough",
        "targets",
        "contextTargets",
        "rules",
        "prerequisites",
        "salt",
        "trackEvents",
        "trackEventsFallthrough",
        "debugEventsUntilDate",
        "clientSideAvailability",
        "clientSide",
        "deleted",
        "samplingRatio",
        "excludeFromSummaries",
        "migration",
    ];

    /// The effective client-side availability (spec 1.1): the explicit object wins; otherwise
    /// mobile SDKs see the flag and browsers see it when the legacy `clientSide` is set.
    pub fn client_side_availability(&self) -> ClientSideAvailability {
        self.client_side_availability
            .unwrap_or(ClientSideAvailability {
                using_mobile_key: true,
                using_environment_id: self.client_side,
            })
    }

    /// Fills in every derived field so the flag serializes with all "emit always" fields and
    /// the legacy `clientSide` agrees with `clientSideAvailability`.
    pub fn canonicalize(&mut self) {
        let availability = self.client_side_availability();
        self.client_side_availability = Some(availability);
        self.client_side = availability.using_environment_id;
    }
}

/// `clientSideAvailability` (spec 1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ClientSideAvailability {
    /// Visible to mobile SDKs.
    #[serde(default, deserialize_with = "null_default")]
    pub using_mobile_key: bool,
    /// Visible to browser SDKs.
    #[serde(default, deserialize_with = "null_default")]
    pub using_environment_id: bool,
}

/// Migration flag settings (spec 1.7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    /// A consistency check runs on 1 of N operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_ratio: Option<i64>,
}

/// A fixed variation or a percentage rollout (spec 1.2); `variation` wins when both are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VariationOrRollout {
    /// Fixed variation index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variation: Option<i64>,
    /// Percentage rollout or experiment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

/// Whether a rollout is a plain rollout or an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum RolloutKind {
    /// Percentage rollout (the default).
    #[default]
    Rollout,
    /// Experiment: always buckets by key, and marks tracked buckets `inExperiment`.
    Experiment,
}

/// A percentage rollout (spec 1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Rollout {
    /// Buckets, in order.
    #[serde(default, deserialize_with = "null_default")]
    pub variations: Vec<WeightedVariation>,
    /// Rollout or experiment; absent means rollout.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_kind"
    )]
    pub kind: Option<RolloutKind>,
    /// Which individual context is bucketed; absent means `user` with legacy attribute parsing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Attribute hashed; absent means `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// Replaces `flagKey.salt` as the hash prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

/// One bucket of a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct WeightedVariation {
    /// Variation index served from this bucket.
    #[serde(default, deserialize_with = "null_default")]
    pub variation: i64,
    /// Share of 100000.
    #[serde(default, deserialize_with = "null_default")]
    pub weight: i64,
    /// An untracked bucket of an experiment is not "in experiment".
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub untracked: bool,
}

/// An individual target list (spec 1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Context kind; omitted in `targets` (implicitly `user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Context keys.
    #[serde(default, deserialize_with = "null_default")]
    pub values: Vec<String>,
    /// Variation index served to them.
    #[serde(default, deserialize_with = "null_default")]
    pub variation: i64,
}

/// A targeting rule (spec 1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FlagRule {
    /// Stable rule id, reported as `ruleId`.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// AND-ed clauses; empty matches every context.
    #[serde(default, deserialize_with = "null_default")]
    pub clauses: Vec<Clause>,
    /// What the rule serves.
    #[serde(flatten)]
    pub variation_or_rollout: VariationOrRollout,
    /// Full events for evaluations matching this rule.
    #[serde(default, deserialize_with = "null_default")]
    pub track_events: bool,
}

/// A clause (spec 1.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Clause {
    /// Context kind; absent means `user` with `attribute` read as a literal name (spec 1.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_kind: Option<String>,
    /// Attribute reference; `""` for `segmentMatch`.
    #[serde(default, deserialize_with = "null_default")]
    pub attribute: String,
    /// Operator name; unknown operators never match.
    #[serde(default, deserialize_with = "null_default")]
    pub op: String,
    /// OR-ed comparison values.
    #[serde(default, deserialize_with = "null_default")]
    pub values: Vec<Value>,
    /// Inverts the result.
    #[serde(default, deserialize_with = "null_default")]
    pub negate: bool,
}

/// A prerequisite (spec 1.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Prerequisite {
    /// Key of the prerequisite flag.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// Variation index it must return.
    #[serde(default, deserialize_with = "null_default")]
    pub variation: i64,
}

/// A segment (spec 1.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Segment key.
    #[serde(default, deserialize_with = "null_default")]
    pub key: String,
    /// Increases on every change.
    #[serde(default, deserialize_with = "null_default")]
    pub version: u64,
    /// Keys of `user` contexts always in the segment.
    #[serde(default, deserialize_with = "null_default")]
    pub included: Vec<String>,
    /// Keys of `user` contexts never in the segment (unless also included).
    #[serde(default, deserialize_with = "null_default")]
    pub excluded: Vec<String>,
    /// Included keys of other kinds.
    #[serde(default, deserialize_with = "null_default")]
    pub included_contexts: Vec<SegmentTarget>,
    /// Excluded keys of other kinds.
    #[serde(default, deserialize_with = "null_default")]
    pub excluded_contexts: Vec<SegmentTarget>,
    /// OR-ed rules.
    #[serde(default, deserialize_with = "null_default")]
    pub rules: Vec<SegmentRule>,
    /// Salt for segment-rule rollouts.
    #[serde(default, deserialize_with = "null_default")]
    pub salt: String,
    /// `true` only in tombstones.
    #[serde(default, deserialize_with = "null_default")]
    pub deleted: bool,
    /// Big-segment data generation (`null` unless big segment).
    #[serde(default)]
    pub generation: Option<i64>,
    /// Big segment marker (emitted only when `true`).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_false"
    )]
    pub unbounded: bool,
    /// Kind whose key is looked up in a big segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unbounded_context_kind: Option<String>,
}

impl Segment {
    /// Every JSON field name of a segment, in schema order.
    pub const FIELDS: &'static [&'static str] = &[
        "key",
        "version",
        "included",
        "excluded",
        "includedContexts",
        "excludedContexts",
        "rules",
        "salt",
        "deleted",
        "generation",
        "unbounded",
        "unboundedContextKind",
    ];
}

/// Included or excluded keys of one context kind in a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SegmentTarget {
    /// Context kind.
    #[serde(default, deserialize_with = "null_default")]
    pub context_kind: String,
    /// Context keys.
    #[serde(default, deserialize_with = "null_default")]
    pub values: Vec<String>,
}

/// A segment rule (spec 1.8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SegmentRule {
    /// Rule id (may be empty).
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// AND-ed clauses.
    #[serde(default, deserialize_with = "null_default")]
    pub clauses: Vec<Clause>,
    /// Share of 100000 admitted when the clauses match; absent admits all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Attribute hashed for the weight check; absent means `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_by: Option<String>,
    /// Kind bucketed for the weight check; absent means `user` with legacy parsing of `bucketBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout_context_kind: Option<String>,
}

/// The server-side polling payload and `put` data: `{"flags": {...}, "segments": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AllData {
    /// Flags by key.
    #[serde(default, deserialize_with = "null_default")]
    pub flags: std::collections::BTreeMap<String, Flag>,
    /// Segments by key.
    #[serde(default, deserialize_with = "null_default")]
    pub segments: std::collections::BTreeMap<String, Segment>,
}

/// Decodes `null` as the type's default, as LaunchDarkly's decoders do.
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Decodes an unknown rollout kind as a plain rollout, as the reference evaluator does.
fn lenient_kind<'de, D>(deserializer: D) -> Result<Option<RolloutKind>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(
        match Option::<String>::deserialize(deserializer)?.as_deref() {
            None => None,
            Some("experiment") => Some(RolloutKind::Experiment),
            Some(_) => Some(RolloutKind::Rollout),
        },
    )
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_absent_or_one(value: &Option<i64>) -> bool {
    matches!(value, None | Some(1))
}

#[cfg(test)]
mod tests;
