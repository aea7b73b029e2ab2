//! Checks of an item against the other items of its environment: prerequisites and segments
//! exist, and chains of them are neither cycles nor deeper than evaluation allows.

use super::clause::SEGMENT_MATCH;
use super::graph::{show_chain, ChainProblem, Graph};
use super::serve::index_problem;
use super::ValidationError;
use crate::chain::MAX_DEPTH;
use crate::model::{Clause, Flag, Segment};

pub(super) fn prerequisites<'a>(
    flag: &'a Flag,
    lookup: &dyn Fn(&str) -> Option<&'a Flag>,
) -> Vec<ValidationError> {
    let resolve = |key: &str| {
        if key == flag.key {
            Some(flag)
        } else {
            lookup(key).filter(|stored| !stored.deleted)
        }
    };
    let mut graph = Graph::new(&resolve, prerequisite_keys, |flag: &Flag| {
        !flag.prerequisites.is_empty()
    });
    let mut errors = Vec::new();
    for (index, prerequisite) in flag.prerequisites.iter().enumerate() {
        let key = prerequisite.key.as_str();
        let path = format!("prerequisites[{index}]");
        // `validate_flag` reports a flag that is its own prerequisite.
        if key == flag.key {
            continue;
        }
        let Some(required) = graph.item(key) else {
            errors.push(ValidationError::new(
                format!("{path}.key"),
                format!("flag {key:?} does not exist in this environment"),
            ));
            continue;
        };
        let owner = format!("flag {key:?}");
        if let Some(reason) =
            index_problem(prerequisite.variation, required.variations.len(), &owner)
        {
            errors.push(ValidationError::new(format!("{path}.variation"), reason));
        }
        // The flag being validated has prerequisites, so it is the chain's first level.
        if let Err(problem) = graph.walk(&mut vec![flag.key.as_str()], 1, key, required) {
            errors.push(ValidationError::new(
                format!("{path}.key"),
                describe(&problem, "prerequisites", "flags with prerequisites"),
            ));
        }
    }
    errors
}

pub(super) fn flag_segments<'a>(
    flag: &Flag,
    lookup: &dyn Fn(&str) -> Option<&'a Segment>,
) -> Vec<ValidationError> {
    let resolve = |key: &str| lookup(key).filter(|stored| !stored.deleted);
    let mut graph = Graph::new(&resolve, nested_segment_keys, |_| true);
    let mut errors = Vec::new();
    for (index, rule) in flag.rules.iter().enumerate() {
        for (clause, value, key) in segment_references(&rule.clauses) {
            let path = format!("rules[{index}].clauses[{clause}].values[{value}]");
            check_segment(&mut graph, &[], key, path, &mut errors);
        }
    }
    errors
}

pub(super) fn segment_segments<'a>(
    segment: &'a Segment,
    lookup: &dyn Fn(&str) -> Option<&'a Segment>,
) -> Vec<ValidationError> {
    let resolve = |key: &str| {
        if key == segment.key {
            Some(segment)
        } else {
            lookup(key).filter(|stored| !stored.deleted)
        }
    };
    let mut graph = Graph::new(&resolve, nested_segment_keys, |_| true);
    let mut errors = Vec::new();
    for (index, rule) in segment.rules.iter().enumerate() {
        for (clause, value, key) in segment_references(&rule.clauses) {
            let path = format!("rules[{index}].clauses[{clause}].values[{value}]");
            // `validate_segment` reports a segment that matches itself.
            if key != segment.key {
                check_segment(&mut graph, &[segment.key.as_str()], key, path, &mut errors);
            }
        }
    }
    errors
}

/// Checks one `segmentMatch` value naming `key`, below the segments `above`.
fn check_segment<'a>(
    graph: &mut Graph<'a, '_, Segment>,
    above: &[&'a str],
    key: &str,
    path: String,
    errors: &mut Vec<ValidationError>,
) {
    let Some(segment) = graph.item(key) else {
        errors.push(ValidationError::new(
            path,
            format!("segment {key:?} does not exist in this environment"),
        ));
        return;
    };
    let key = segment.key.as_str();
    if let Err(problem) = graph.walk(&mut above.to_vec(), above.len(), key, segment) {
        errors.push(ValidationError::new(
            path,
            describe(&problem, "segments", "segments"),
        ));
    }
}

/// The reason for a chain problem; `items` names what forms the cycle, `levels` what counts
/// toward the depth.
fn describe(problem: &ChainProblem<'_>, items: &str, levels: &str) -> String {
    match problem {
        ChainProblem::Cycle(keys) => format!("{items} form a cycle: {}", show_chain(keys)),
        ChainProblem::TooDeep(keys) => format!(
            "{items} nest too deeply: more than {MAX_DEPTH} {levels} in the chain {}",
            show_chain(keys)
        ),
    }
}

fn prerequisite_keys(flag: &Flag) -> Vec<&str> {
    flag.prerequisites
        .iter()
        .map(|prerequisite| prerequisite.key.as_str())
        .collect()
}

fn nested_segment_keys(segment: &Segment) -> Vec<&str> {
    segment
        .rules
        .iter()
        .flat_map(|rule| segment_references(&rule.clauses))
        .map(|(_, _, key)| key)
        .collect()
}

/// The segment keys named by `segmentMatch` clauses, with the indices of their clause and
/// value. Values that are not strings are skipped, as evaluation skips them.
fn segment_references(clauses: &[Clause]) -> impl Iterator<Item = (usize, usize, &str)> {
    clauses
        .iter()
        .enumerate()
        .filter(|(_, clause)| clause.op == SEGMENT_MATCH)
        .flat_map(|(clause_index, clause)| {
            clause
                .values
                .iter()
                .enumerate()
                .filter_map(move |(value_index, value)| {
                    Some((clause_index, value_index, value.as_str()?))
                })
        })
}
