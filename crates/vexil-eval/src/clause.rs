//! Whether a rule's clauses match a context (spec 3.6), including `kind` clauses and arrays.

use serde_json::Value;

use crate::chain::KeyChain;
use crate::context::Context;
use crate::operators::Matcher;
use crate::options::EvaluationOptions;
use crate::prepare::PreparedClause;
use crate::segments::segment_contains;
use crate::store::Store;

/// The flag's data is invalid in a way that ends the whole evaluation with `MALFORMED_FLAG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Whether every clause matches; stops at the first that does not.
pub(crate) fn all_match<S: Store + ?Sized>(
    clauses: &[PreparedClause],
    context: &Context,
    store: &S,
    options: EvaluationOptions,
    chain: Option<&KeyChain<'_>>,
) -> Result<bool, Malformed> {
    for clause in clauses {
        if !clause_matches(clause, context, store, options, chain)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn clause_matches<S: Store + ?Sized>(
    clause: &PreparedClause,
    context: &Context,
    store: &S,
    options: EvaluationOptions,
    chain: Option<&KeyChain<'_>>,
) -> Result<bool, Malformed> {
    if let Matcher::SegmentMatch(keys) = &clause.matcher {
        for key in keys {
            // Unknown segments are skipped silently.
            if let Some(segment) = store.segment(key) {
                if segment_contains(segment, context, store, options, chain)? {
                    return Ok(!clause.negate);
                }
            }
        }
        return Ok(clause.negate);
    }
    if !clause.attribute.is_valid() {
        return Err(Malformed);
    }
    if clause.attribute.is_kind() {
        let any_kind = context.individuals().iter().any(|individual| {
            individual
                .get(&clause.attribute)
                .is_some_and(|kind| clause.matcher.matches(kind))
        });
        return Ok(any_kind != clause.negate);
    }
    // A missing kind or attribute is a non-match that `negate` does not invert.
    let Some(value) = context
        .individual(&clause.kind)
        .and_then(|individual| individual.get(&clause.attribute))
    else {
        return Ok(false);
    };
    let matched = match value {
        Value::Array(elements) => elements
            .iter()
            .any(|element| clause.matcher.matches(element)),
        scalar => clause.matcher.matches(scalar),
    };
    Ok(matched != clause.negate)
}
