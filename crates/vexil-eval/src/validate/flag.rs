//! The checks of one flag on its own, in the order of its fields (see `validate_flag`).

use std::collections::HashMap;

use super::clause::check_clauses;
use super::names::validate_key;
use super::serve::{check_index, check_serve};
use super::targets::check_targets;
use super::ValidationError;
use crate::model::{Flag, FlagRule, Prerequisite};

pub(super) fn check(flag: &Flag, errors: &mut Vec<ValidationError>) {
    if let Err(reason) = validate_key(&flag.key) {
        errors.push(ValidationError::new("key", reason));
    }
    let variations = flag.variations.len();
    if variations == 0 {
        errors.push(ValidationError::new(
            "variations",
            "a flag needs at least one variation",
        ));
    }
    if let Some(index) = flag.off_variation {
        check_index(index, variations, || "offVariation".into(), errors);
    }
    check_serve(&flag.fallthrough, variations, "fallthrough", errors);
    check_targets(&flag.targets, &flag.context_targets, variations, errors);
    check_rules(&flag.rules, variations, errors);
    check_prerequisites(&flag.key, &flag.prerequisites, errors);
    check_ratio(flag.sampling_ratio, "samplingRatio", errors);
    if let Some(migration) = &flag.migration {
        check_ratio(migration.check_ratio, "migration.checkRatio", errors);
    }
}

fn check_rules(rules: &[FlagRule], variations: usize, errors: &mut Vec<ValidationError>) {
    let mut seen_ids = HashMap::new();
    for (index, rule) in rules.iter().enumerate() {
        let path = format!("rules[{index}]");
        if rule.id.is_empty() {
            errors.push(ValidationError::new(
                format!("{path}.id"),
                "must not be empty",
            ));
        } else if let Some(first) = seen_ids.get(rule.id.as_str()) {
            errors.push(ValidationError::new(
                format!("{path}.id"),
                format!("rule id {:?} is already used by {first}", rule.id),
            ));
        } else {
            seen_ids.insert(rule.id.as_str(), path.clone());
        }
        check_clauses(&rule.clauses, &path, None, errors);
        check_serve(&rule.variation_or_rollout, variations, &path, errors);
    }
}

/// Checks prerequisite keys: well-formed, not the flag itself, each listed once.
fn check_prerequisites(
    flag_key: &str,
    prerequisites: &[Prerequisite],
    errors: &mut Vec<ValidationError>,
) {
    let mut seen = HashMap::new();
    for (index, prerequisite) in prerequisites.iter().enumerate() {
        let path = format!("prerequisites[{index}].key");
        let key = prerequisite.key.as_str();
        if let Err(reason) = validate_key(key) {
            errors.push(ValidationError::new(path, reason));
        } else if key == flag_key {
            errors.push(ValidationError::new(
                path,
                "a flag cannot be its own prerequisite",
            ));
        } else if let Some(first) = seen.get(key) {
            errors.push(ValidationError::new(
                path,
                format!("flag {key:?} is already a prerequisite at {first}"),
            ));
        } else {
            seen.insert(key, path);
        }
    }
}

/// Checks a "1 in N" ratio: absent, or 0 (never) or more.
fn check_ratio(ratio: Option<i64>, path: &str, errors: &mut Vec<ValidationError>) {
    if let Some(ratio) = ratio.filter(|&ratio| ratio < 0) {
        errors.push(ValidationError::new(
            path,
            format!("must be 0 or more, not {ratio}"),
        ));
    }
}
