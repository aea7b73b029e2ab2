//! A flag's individual targets: `targets` (user keys) and `contextTargets` (any kind, spec 1.3).

use std::collections::HashMap;

use super::names::validate_context_kind;
use super::serve::check_index;
use super::ValidationError;
use crate::model::Target;
use crate::prepare::DEFAULT_KIND;

/// Checks both target arrays of a flag with `variations` variations.
///
/// In LaunchDarkly's layout `user` keys are listed in `targets`, and once `contextTargets` is
/// non-empty it holds a placeholder (kind `user`, empty `values`) for each `targets` entry, at
/// the position where that entry is evaluated. Each (kind, variation) has one list, and each
/// context key of a kind is targeted once (evaluation would silently serve the first).
pub(super) fn check_targets(
    targets: &[Target],
    context_targets: &[Target],
    variations: usize,
    errors: &mut Vec<ValidationError>,
) {
    let mut seen_keys = HashMap::new();
    let mut seen_lists = HashMap::new();
    for (index, target) in targets.iter().enumerate() {
        let path = format!("targets[{index}]");
        if let Some(kind) = target
            .context_kind
            .as_deref()
            .filter(|&k| k != DEFAULT_KIND)
        {
            errors.push(ValidationError::new(
                format!("{path}.contextKind"),
                format!("`targets` holds `user` keys only; put {kind:?} keys in `contextTargets`"),
            ));
        }
        check_list(
            target,
            DEFAULT_KIND,
            &path,
            variations,
            &mut seen_lists,
            errors,
        );
        check_keys(target, DEFAULT_KIND, &path, &mut seen_keys, errors);
        let has_placeholder = context_targets
            .iter()
            .any(|entry| is_placeholder(entry) && entry.variation == target.variation);
        if !context_targets.is_empty() && !has_placeholder {
            errors.push(ValidationError::new(
                path,
                format!(
                    "evaluation ignores this list: `contextTargets` is not empty but has no \
                     `user` placeholder (empty `values`) for variation {}",
                    target.variation
                ),
            ));
        }
    }
    let mut seen_placeholders = HashMap::new();
    for (index, target) in context_targets.iter().enumerate() {
        let path = format!("contextTargets[{index}]");
        if let Some(kind) = &target.context_kind {
            if let Err(reason) = validate_context_kind(kind) {
                errors.push(ValidationError::new(format!("{path}.contextKind"), reason));
            }
        }
        let kind = target.context_kind.as_deref().unwrap_or(DEFAULT_KIND);
        if kind != DEFAULT_KIND {
            check_list(target, kind, &path, variations, &mut seen_lists, errors);
            check_keys(target, kind, &path, &mut seen_keys, errors);
        } else if is_placeholder(target) {
            check_list(
                target,
                kind,
                &path,
                variations,
                &mut seen_placeholders,
                errors,
            );
        } else {
            check_index(
                target.variation,
                variations,
                || format!("{path}.variation"),
                errors,
            );
            errors.push(ValidationError::new(
                format!("{path}.values"),
                "`user` keys belong in `targets`; a `user` entry of `contextTargets` is a \
                 placeholder with empty `values`",
            ));
        }
    }
}

/// A `contextTargets` entry standing for the `targets` entry with the same variation.
fn is_placeholder(target: &Target) -> bool {
    target.context_kind.as_deref().unwrap_or(DEFAULT_KIND) == DEFAULT_KIND
        && target.values.is_empty()
}

/// Checks the variation of a target list and that no earlier list has the same kind and
/// variation. `seen` maps (kind, variation) to the path of the first such list.
fn check_list<'t>(
    target: &'t Target,
    kind: &'t str,
    path: &str,
    variations: usize,
    seen: &mut HashMap<(&'t str, i64), String>,
    errors: &mut Vec<ValidationError>,
) {
    check_index(
        target.variation,
        variations,
        || format!("{path}.variation"),
        errors,
    );
    if let Some(first) = seen.get(&(kind, target.variation)) {
        errors.push(ValidationError::new(
            format!("{path}.variation"),
            format!(
                "{first} already lists {kind:?} keys for variation {}",
                target.variation
            ),
        ));
    } else {
        seen.insert((kind, target.variation), path.to_owned());
    }
}

/// Checks that every key is non-empty and targeted once per kind. `seen` maps (kind, key) to
/// the path of its first occurrence.
fn check_keys<'t>(
    target: &'t Target,
    kind: &'t str,
    path: &str,
    seen: &mut HashMap<(&'t str, &'t str), String>,
    errors: &mut Vec<ValidationError>,
) {
    for (index, key) in target.values.iter().enumerate() {
        let value_path = format!("{path}.values[{index}]");
        if key.is_empty() {
            errors.push(ValidationError::new(value_path, "must not be empty"));
        } else if let Some(first) = seen.get(&(kind, key.as_str())) {
            errors.push(ValidationError::new(
                value_path,
                format!("{kind:?} key {key:?} is already targeted at {first}"),
            ));
        } else {
            seen.insert((kind, key.as_str()), value_path);
        }
    }
}
