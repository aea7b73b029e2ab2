//! Flags and segments prepared for evaluation: references parsed, operators compiled, target
//! lists hashed, rollout prefixes built. Done once when data is loaded.

use rustc_hash::FxHashSet;

use crate::attribute_ref::AttributeRef;
use crate::context::Context;
use crate::model::{
    Clause, Flag, RolloutKind, Segment, SegmentTarget, Target, VariationOrRollout,
    WeightedVariation,
};
use crate::operators::Matcher;

/// The kind used when a target, clause or rollout names none.
pub(crate) const DEFAULT_KIND: &str = "user";

/// A flag ready for evaluation. Keeps the model it was built from.
#[derive(Debug, Clone)]
pub struct PreparedFlag {
    flag: Flag,
    pub(crate) targets: Vec<PreparedTarget>,
    pub(crate) rules: Vec<PreparedRule>,
    pub(crate) fallthrough: PreparedServe,
}

/// A segment ready for evaluation. Keeps the model it was built from.
#[derive(Debug, Clone)]
pub struct PreparedSegment {
    segment: Segment,
    pub(crate) included: FxHashSet<String>,
    pub(crate) excluded: FxHashSet<String>,
    pub(crate) included_contexts: Vec<ContextKeys>,
    pub(crate) excluded_contexts: Vec<ContextKeys>,
    pub(crate) rules: Vec<PreparedSegmentRule>,
    pub(crate) bucket_prefix: Box<str>,
}

/// A target list in evaluation order (spec 3.5), `user` placeholders already resolved.
#[derive(Debug, Clone)]
pub(crate) struct PreparedTarget {
    pub keys: ContextKeys,
    pub variation: i64,
}

/// Keys of one context kind, as in flag targets and segment context lists.
#[derive(Debug, Clone)]
pub(crate) struct ContextKeys {
    kind: Box<str>,
    keys: FxHashSet<String>,
}

impl ContextKeys {
    fn new(kind: &str, keys: &[String]) -> Self {
        Self {
            kind: kind.into(),
            keys: keys.iter().cloned().collect(),
        }
    }

    /// Whether the context has this kind and that individual context's key is listed.
    pub(crate) fn contains(&self, context: &Context) -> bool {
        context
            .individual(&self.kind)
            .is_some_and(|individual| self.keys.contains(individual.key()))
    }
}

/// A flag rule.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRule {
    pub clauses: Vec<PreparedClause>,
    pub serve: PreparedServe,
}

/// A segment rule.
#[derive(Debug, Clone)]
pub(crate) struct PreparedSegmentRule {
    pub clauses: Vec<PreparedClause>,
    pub weight: Option<i64>,
    pub rollout_kind: Box<str>,
    pub bucket_by: AttributeRef,
}

/// A clause.
#[derive(Debug, Clone)]
pub(crate) struct PreparedClause {
    pub kind: Box<str>,
    pub attribute: AttributeRef,
    pub matcher: Matcher,
    pub negate: bool,
}

/// What a rule or the fallthrough serves (spec 3.9).
#[derive(Debug, Clone)]
pub(crate) enum PreparedServe {
    /// A fixed variation index (possibly out of range).
    Fixed(i64),
    /// A percentage rollout with at least one bucket.
    Rollout(PreparedRollout),
    /// Neither a variation nor a non-empty rollout.
    Malformed,
}

/// A rollout or experiment.
#[derive(Debug, Clone)]
pub(crate) struct PreparedRollout {
    pub variations: Vec<WeightedVariation>,
    pub is_experiment: bool,
    pub context_kind: Box<str>,
    /// Always `key` for experiments.
    pub bucket_by: AttributeRef,
    /// The decimal seed, or `flagKey.salt`.
    pub prefix: Box<str>,
}

impl PreparedFlag {
    /// Prepares a flag.
    pub fn new(flag: Flag) -> Self {
        let targets = prepare_targets(&flag.targets, &flag.context_targets);
        let default_prefix = format!("{}.{}", flag.key, flag.salt);
        let rules = flag
            .rules
            .iter()
            .map(|rule| PreparedRule {
                clauses: rule.clauses.iter().map(PreparedClause::new).collect(),
                serve: PreparedServe::new(&rule.variation_or_rollout, &default_prefix),
            })
            .collect();
        let fallthrough = PreparedServe::new(&flag.fallthrough, &default_prefix);
        Self {
            flag,
            targets,
            rules,
            fallthrough,
        }
    }

    /// The flag as it was loaded.
    pub fn flag(&self) -> &Flag {
        &self.flag
    }

    /// The flag key.
    pub fn key(&self) -> &str {
        &self.flag.key
    }
}

impl PreparedSegment {
    /// Prepares a segment.
    pub fn new(segment: Segment) -> Self {
        let rules = segment
            .rules
            .iter()
            .map(|rule| PreparedSegmentRule {
                clauses: rule.clauses.iter().map(PreparedClause::new).collect(),
                weight: rule.weight,
                rollout_kind: rule
                    .rollout_context_kind
                    .as_deref()
                    .unwrap_or(DEFAULT_KIND)
                    .into(),
                bucket_by: bucket_by_ref(
                    rule.bucket_by.as_deref(),
                    rule.rollout_context_kind.is_some(),
                ),
            })
            .collect();
        Self {
            included: segment.included.iter().cloned().collect(),
            excluded: segment.excluded.iter().cloned().collect(),
            included_contexts: prepare_segment_targets(&segment.included_contexts),
            excluded_contexts: prepare_segment_targets(&segment.excluded_contexts),
            rules,
            bucket_prefix: format!("{}.{}", segment.key, segment.salt).into(),
            segment,
        }
    }

    /// The segment as it was loaded.
    pub fn segment(&self) -> &Segment {
        &self.segment
    }

    /// The segment key.
    pub fn key(&self) -> &str {
        &self.segment.key
    }
}

impl PreparedClause {
    fn new(clause: &Clause) -> Self {
        // Spec 1.10: without a context kind, the attribute is a literal name.
        let attribute = match clause.context_kind {
            Some(_) => AttributeRef::parse(&clause.attribute),
            None => AttributeRef::literal(&clause.attribute),
        };
        Self {
            kind: clause
                .context_kind
                .as_deref()
                .unwrap_or(DEFAULT_KIND)
                .into(),
            attribute,
            matcher: Matcher::prepare(&clause.op, &clause.values),
            negate: clause.negate,
        }
    }
}

impl PreparedServe {
    fn new(serve: &VariationOrRollout, default_prefix: &str) -> Self {
        if let Some(variation) = serve.variation {
            return PreparedServe::Fixed(variation);
        }
        match &serve.rollout {
            Some(rollout) if !rollout.variations.is_empty() => {
                let is_experiment = rollout.kind == Some(RolloutKind::Experiment);
                // Experiments always bucket by key (spec 4.1).
                let bucket_by = if is_experiment {
                    AttributeRef::parse("key")
                } else {
                    bucket_by_ref(rollout.bucket_by.as_deref(), rollout.context_kind.is_some())
                };
                let prefix = match rollout.seed {
                    Some(seed) => seed.to_string(),
                    None => default_prefix.to_owned(),
                };
                PreparedServe::Rollout(PreparedRollout {
                    variations: rollout.variations.clone(),
                    is_experiment,
                    context_kind: rollout
                        .context_kind
                        .as_deref()
                        .unwrap_or(DEFAULT_KIND)
                        .into(),
                    bucket_by,
                    prefix: prefix.into(),
                })
            }
            _ => PreparedServe::Malformed,
        }
    }
}

/// The bucketing attribute: `key` when absent or empty, else a reference (kind given) or a
/// literal name (no kind, spec 1.10).
fn bucket_by_ref(bucket_by: Option<&str>, has_kind: bool) -> AttributeRef {
    match bucket_by {
        None | Some("") => AttributeRef::parse("key"),
        Some(reference) if has_kind => AttributeRef::parse(reference),
        Some(name) => AttributeRef::literal(name),
    }
}

/// Resolves the target lists into evaluation order (spec 3.5).
fn prepare_targets(targets: &[Target], context_targets: &[Target]) -> Vec<PreparedTarget> {
    let prepared = |kind: &str, target: &Target, variation: i64| PreparedTarget {
        keys: ContextKeys::new(kind, &target.values),
        variation,
    };
    if context_targets.is_empty() {
        return targets
            .iter()
            .map(|target| prepared(DEFAULT_KIND, target, target.variation))
            .collect();
    }
    context_targets
        .iter()
        .filter_map(|target| {
            let kind = target.context_kind.as_deref().unwrap_or(DEFAULT_KIND);
            if kind == DEFAULT_KIND && target.values.is_empty() {
                // A placeholder for the `targets` entry with the same variation.
                let legacy = targets
                    .iter()
                    .find(|legacy| legacy.variation == target.variation)?;
                Some(prepared(DEFAULT_KIND, legacy, target.variation))
            } else {
                Some(prepared(kind, target, target.variation))
            }
        })
        .collect()
}

fn prepare_segment_targets(targets: &[SegmentTarget]) -> Vec<ContextKeys> {
    targets
        .iter()
        .map(|target| match target.context_kind.as_str() {
            "" => ContextKeys::new(DEFAULT_KIND, &target.values),
            kind => ContextKeys::new(kind, &target.values),
        })
        .collect()
}
