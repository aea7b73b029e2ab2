//! Segment containment (spec 3.8): include/exclude lists, then rules with optional weights.

use crate::bucketing::bucket_context;
use crate::chain::KeyChain;
use crate::clause::{all_match, Malformed};
use crate::context::Context;
use crate::options::EvaluationOptions;
use crate::prepare::{ContextKeys, PreparedSegment, PreparedSegmentRule, DEFAULT_KIND};
use crate::store::Store;

/// Whether the context is in the segment. A segment that (indirectly) contains itself, or
/// nesting deeper than [`crate::chain::MAX_DEPTH`], is malformed.
pub(crate) fn segment_contains<S: Store + ?Sized>(
    segment: &PreparedSegment,
    context: &Context,
    store: &S,
    options: EvaluationOptions,
    chain: Option<&KeyChain<'_>>,
) -> Result<bool, Malformed> {
    let chain = KeyChain::push(chain, segment.key()).map_err(|_| Malformed)?;
    let model = segment.segment();
    if model.unbounded {
        // Big segments need a membership store, which Vexil does not have (it never emits
        // them, spec 1.9). Without a generation the reference evaluator reports no match;
        // with one and no store, membership is unknown and only the rules decide.
        if model.generation.is_none() {
            return Ok(false);
        }
    } else if let Some(included) = listed(segment, context) {
        return Ok(included);
    }
    for rule in &segment.rules {
        if rule_matches(rule, segment, context, store, options, &chain)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Steps 3 to 6 of spec 3.8: `Some(true)` included, `Some(false)` excluded, `None` unlisted.
///
/// Like the reference evaluator, the `*Contexts` lists are not consulted for a context that is a
/// single `user` context (Vexil never writes `user` entries into them, spec 1.8).
fn listed(segment: &PreparedSegment, context: &Context) -> Option<bool> {
    let user_key = context.individual(DEFAULT_KIND).map(|user| user.key());
    let single_user = !context.is_multi() && user_key.is_some();
    let in_lists =
        |lists: &[ContextKeys]| !single_user && lists.iter().any(|list| list.contains(context));
    if user_key.is_some_and(|key| segment.included.contains(key))
        || in_lists(&segment.included_contexts)
    {
        return Some(true);
    }
    if user_key.is_some_and(|key| segment.excluded.contains(key))
        || in_lists(&segment.excluded_contexts)
    {
        return Some(false);
    }
    None
}

fn rule_matches<S: Store + ?Sized>(
    rule: &PreparedSegmentRule,
    segment: &PreparedSegment,
    context: &Context,
    store: &S,
    options: EvaluationOptions,
    chain: &KeyChain<'_>,
) -> Result<bool, Malformed> {
    if !all_match(&rule.clauses, context, store, options, Some(chain))? {
        return Ok(false);
    }
    let Some(weight) = rule.weight else {
        return Ok(true);
    };
    if !rule.bucket_by.is_valid() {
        return Err(Malformed);
    }
    let bucket = bucket_context(
        context,
        &rule.rollout_kind,
        &rule.bucket_by,
        &segment.bucket_prefix,
        options.use_secondary_key,
    );
    // A context without the rollout kind is not in the rule; any other failure is bucket 0.
    Ok(bucket.has_kind && bucket.value < weight as f32 / 100_000.0)
}
