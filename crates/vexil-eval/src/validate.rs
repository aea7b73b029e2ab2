//! Write-time validation of flags and segments: every problem, located by a JSON path.
//!
//! Evaluation tolerates malformed data (it answers `MALFORMED_FLAG` or silently never matches,
//! as LaunchDarkly SDKs do); the config API calls these functions before storing a flag or
//! segment so that such data is never written. Each function returns *every* problem it finds,
//! in the order of the item's fields, so one response can list them all.
//!
//! - [`validate_key`] and [`validate_context_kind`] check one string.
//! - [`validate_flag`] and [`validate_segment`] check everything that one item shows on its own.
//! - [`validate_prerequisites`], [`validate_flag_segment_references`] and
//!   [`validate_segment_segment_references`] check an item against the other items of its
//!   environment: that what it references exists, and that no chain of references is a cycle
//!   or nests deeper than evaluation allows.
//!
//! Choices that LaunchDarkly leaves open are documented on the function that makes them.

mod clause;
mod flag;
mod graph;
mod names;
mod references;
mod segment;
mod serve;
mod targets;

use std::fmt;

use crate::model::{Flag, Segment};

pub use names::{validate_context_kind, validate_key, MAX_KEY_LENGTH};

/// One problem found in a flag or segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ValidationError {
    /// JSON path of the offending value relative to the item, such as
    /// `rules[1].clauses[0].values[2]` or `fallthrough.rollout.variations`.
    pub path: String,
    /// What is wrong, lowercase and without a trailing period.
    pub reason: String,
}

impl ValidationError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Everything that can be checked on one flag without looking at other flags or segments.
///
/// Choices (LaunchDarkly's SDKs accept all of these, so they are Vexil's):
/// - a flag needs at least one variation: with none, every result is an error;
/// - rule ids must be non-empty and unique, since reasons report them (the config API assigns
///   ids to new rules before validating);
/// - a clause needs at least one value: with none it never matches, or always does when
///   negated, which nobody means;
/// - clause values must have the type their operator compares (a mismatch could never match);
///   `in` accepts strings, numbers and booleans, since `null`, arrays and objects never match;
/// - `user` keys live in `targets`, and a `user` entry of `contextTargets` is only a placeholder
///   with empty `values` (spec 1.3); every `targets` entry needs its placeholder once
///   `contextTargets` is non-empty, since evaluation would ignore it otherwise;
/// - a variation has one target list per context kind, and a context key is targeted once;
/// - a rollout's weights add up to exactly 100000 (evaluation would give any shortfall to the
///   last bucket).
///
/// A prerequisite naming the flag itself is reported here; whether other prerequisites exist,
/// and the range of their `variation` (an index into the *prerequisite's* variations), are
/// checked by [`validate_prerequisites`]. Which segments a `segmentMatch` names is checked by
/// [`validate_flag_segment_references`].
///
/// Not checkable here: the model decodes an unknown `rollout.kind` as `"rollout"` (as the
/// reference evaluator does), so a misspelled kind must be rejected when the request is decoded.
pub fn validate_flag(flag: &Flag) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    flag::check(flag, &mut errors);
    errors
}

/// Everything that can be checked on one segment without looking at other segments.
///
/// Choices: `user` keys live in `included`/`excluded`, never in `includedContexts` or
/// `excludedContexts` (spec 1.8: SDKs disagree about such entries); segment rule ids may be
/// empty (spec 1.8) but non-empty ones are unique; clauses follow [`validate_flag`]'s rules.
/// A `segmentMatch` naming the segment itself is reported here; other referenced segments are
/// checked by [`validate_segment_segment_references`].
pub fn validate_segment(segment: &Segment) -> Vec<ValidationError> {
    let mut errors = Vec::new();
    segment::check(segment, &mut errors);
    errors
}

/// Checks a flag's prerequisites against the other flags of its environment: each exists, its
/// required `variation` is one of *its* variation indices, and no chain of prerequisites
/// starting at `flag` is a cycle (reported as `a -> b -> a`) or holds more than 64 flags that
/// have prerequisites (`MAX_DEPTH` in `chain.rs`); evaluation would answer `MALFORMED_FLAG`
/// for either.
///
/// `lookup` finds the stored flags; `flag` itself takes precedence over any stored copy of it,
/// and deleted flags (tombstones) count as absent. Only chains *below* `flag` are checked: a
/// flag that others depend on can still deepen their chains, which only a check of every
/// flag of the environment would see.
pub fn validate_prerequisites<'a>(
    flag: &'a Flag,
    lookup: impl Fn(&str) -> Option<&'a Flag>,
) -> Vec<ValidationError> {
    references::prerequisites(flag, &lookup)
}

/// Checks the segments that a flag's `segmentMatch` clauses name: each exists, and the
/// segments nested below it form no cycle and nest at most 64 deep (`MAX_DEPTH` in
/// `chain.rs`). Deleted segments count as absent.
pub fn validate_flag_segment_references<'a>(
    flag: &Flag,
    lookup: impl Fn(&str) -> Option<&'a Segment>,
) -> Vec<ValidationError> {
    references::flag_segments(flag, &lookup)
}

/// Checks the segments that a segment's rules name in `segmentMatch` clauses, as
/// [`validate_flag_segment_references`] does, counting `segment` itself as the first level.
/// `segment` takes precedence over any stored copy of it in `lookup`.
pub fn validate_segment_segment_references<'a>(
    segment: &'a Segment,
    lookup: impl Fn(&str) -> Option<&'a Segment>,
) -> Vec<ValidationError> {
    references::segment_segments(segment, &lookup)
}

/// A JSON value as it appears in a message, shortened when long.
fn show(value: &serde_json::Value) -> String {
    const LIMIT: usize = 60;
    let text = value.to_string();
    match text.char_indices().nth(LIMIT) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text,
    }
}

/// A plural count: `1 variation`, `2 variations`.
struct Count<'a>(usize, &'a str);

impl fmt::Display for Count<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Count(count, noun) = *self;
        match count {
            0 => write!(f, "no {noun}s"),
            1 => write!(f, "1 {noun}"),
            _ => write!(f, "{count} {noun}s"),
        }
    }
}

#[cfg(test)]
mod tests;
