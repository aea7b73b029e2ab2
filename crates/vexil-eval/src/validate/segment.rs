//! The checks of one segment on its own, in the order of its fields (see `validate_segment`).

use std::collections::HashMap;

use super::clause::check_clauses;
use super::names::{check_bucket_by, validate_context_kind, validate_key};
use super::serve::weight_problem;
use super::ValidationError;
use crate::model::{Segment, SegmentRule, SegmentTarget};
use crate::prepare::DEFAULT_KIND;

pub(super) fn check(segment: &Segment, errors: &mut Vec<ValidationError>) {
    if let Err(reason) = validate_key(&segment.key) {
        errors.push(ValidationError::new("key", reason));
    }
    check_user_keys(&segment.included, "included", errors);
    check_user_keys(&segment.excluded, "excluded", errors);
    check_context_lists(&segment.included_contexts, "includedContexts", errors);
    check_context_lists(&segment.excluded_contexts, "excludedContexts", errors);
    check_rules(&segment.rules, &segment.key, errors);
    if let Some(kind) = &segment.unbounded_context_kind {
        if let Err(reason) = validate_context_kind(kind) {
            errors.push(ValidationError::new("unboundedContextKind", reason));
        }
    }
}

fn check_user_keys(keys: &[String], field: &str, errors: &mut Vec<ValidationError>) {
    for (index, key) in keys.iter().enumerate() {
        if key.is_empty() {
            errors.push(ValidationError::new(
                format!("{field}[{index}]"),
                "must not be empty",
            ));
        }
    }
}

/// Checks `includedContexts` or `excludedContexts`, which hold kinds other than `user`.
fn check_context_lists(lists: &[SegmentTarget], field: &str, errors: &mut Vec<ValidationError>) {
    let user_field = field.trim_end_matches("Contexts");
    for (index, list) in lists.iter().enumerate() {
        let path = format!("{field}[{index}]");
        // Evaluation reads an empty kind as `user`.
        if list.context_kind.is_empty() || list.context_kind == DEFAULT_KIND {
            errors.push(ValidationError::new(
                format!("{path}.contextKind"),
                format!("`user` keys belong in `{user_field}`; SDKs disagree about `user` entries in `{field}`"),
            ));
        } else if let Err(reason) = validate_context_kind(&list.context_kind) {
            errors.push(ValidationError::new(format!("{path}.contextKind"), reason));
        }
        check_user_keys(&list.values, &format!("{path}.values"), errors);
    }
}

fn check_rules(rules: &[SegmentRule], segment_key: &str, errors: &mut Vec<ValidationError>) {
    let mut seen_ids = HashMap::new();
    for (index, rule) in rules.iter().enumerate() {
        let path = format!("rules[{index}]");
        if let Some(first) = seen_ids.get(rule.id.as_str()) {
            errors.push(ValidationError::new(
                format!("{path}.id"),
                format!("rule id {:?} is already used by {first}", rule.id),
            ));
        } else if !rule.id.is_empty() {
            seen_ids.insert(rule.id.as_str(), path.clone());
        }
        check_clauses(&rule.clauses, &path, Some(segment_key), errors);
        if let Some(reason) = rule.weight.and_then(weight_problem) {
            errors.push(ValidationError::new(format!("{path}.weight"), reason));
        }
        if let Some(kind) = &rule.rollout_context_kind {
            if let Err(reason) = validate_context_kind(kind) {
                errors.push(ValidationError::new(
                    format!("{path}.rolloutContextKind"),
                    reason,
                ));
            }
        }
        if let Err(reason) = check_bucket_by(
            rule.bucket_by.as_deref(),
            rule.rollout_context_kind.is_some(),
        ) {
            errors.push(ValidationError::new(format!("{path}.bucketBy"), reason));
        }
    }
}
