//! A flag's individual targets, kept in LaunchDarkly's layout (spec 1.3, 3.5).
//!
//! `user` keys live in `targets`, one entry per variation, and each such entry has a
//! placeholder in `contextTargets` (kind `user`, empty `values`, same variation) marking where
//! it is evaluated among the other kinds' lists. LaunchDarkly writes the placeholders even when
//! there are only `user` targets, and so do we. Keys of other kinds live in `contextTargets`,
//! one entry per (kind, variation). New lists go last; lists left empty are dropped with their
//! placeholder.

use std::collections::{HashMap, HashSet};

use vexil_eval::{Flag, Target};

use super::params::{TargetParam, USER_KIND};
use super::require_values;
use super::rules::variation_index;

/// `addTargets`: a key already in this list stays; a key targeted to another variation of
/// the same kind is an error, as a context key is served one variation.
pub(super) fn add(
    flag: &mut Flag,
    context_kind: Option<&str>,
    variation: usize,
    values: &[String],
) -> Result<(), String> {
    let variation = variation_index(flag, variation)?;
    require_values(values)?;
    let kind = context_kind.unwrap_or(USER_KIND);
    let targeted = targeted_keys(flag, kind);
    let mut new_keys = Vec::new();
    let mut seen = HashSet::new();
    for value in values {
        match targeted.get(value.as_str()) {
            Some(&current) if current == variation => {}
            Some(current) => {
                return Err(format!(
                    "{kind} key `{value}` is already targeted to variation {current}; \
                     remove it from there first (removeTargets, in the same patch)"
                ))
            }
            None if seen.insert(value) => new_keys.push(value.clone()),
            None => {}
        }
    }
    // Placeholders for existing `user` lists first, so that they keep their precedence over
    // a list added now.
    tidy(flag);
    if !new_keys.is_empty() {
        list_mut(flag, kind, variation).values.extend(new_keys);
    }
    tidy(flag);
    Ok(())
}

/// `removeTargets`: every key must be in the list of this kind and variation.
pub(super) fn remove(
    flag: &mut Flag,
    context_kind: Option<&str>,
    variation: usize,
    values: &[String],
) -> Result<(), String> {
    let variation = variation_index(flag, variation)?;
    require_values(values)?;
    let kind = context_kind.unwrap_or(USER_KIND);
    let targeted = targeted_keys(flag, kind);
    for value in values {
        match targeted.get(value.as_str()) {
            Some(&current) if current == variation => {}
            elsewhere => {
                let elsewhere = match elsewhere {
                    Some(current) => format!(" (it is targeted to variation {current})"),
                    None => String::new(),
                };
                return Err(format!(
                    "{kind} key `{value}` is not targeted to variation {variation}{elsewhere}"
                ));
            }
        }
    }
    let removed: HashSet<&str> = values.iter().map(String::as_str).collect();
    for list in lists_mut(flag, kind).filter(|list| list.variation == variation) {
        list.values.retain(|key| !removed.contains(key.as_str()));
    }
    tidy(flag);
    Ok(())
}

/// `replaceTargets`: the lists of every kind become `targets`, in that order.
pub(super) fn replace(flag: &mut Flag, targets: &[TargetParam]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (position, target) in targets.iter().enumerate() {
        let kind = target.context_kind.as_deref().unwrap_or(USER_KIND);
        if let Some(key) = target.values.iter().find(|&key| !seen.insert((kind, key))) {
            return Err(format!(
                "targets[{position}]: {kind} key `{key}` is listed twice"
            ));
        }
    }
    flag.targets.clear();
    flag.context_targets.clear();
    for (position, target) in targets.iter().enumerate() {
        add(
            flag,
            target.context_kind.as_deref(),
            target.variation,
            &target.values,
        )
        .map_err(|reason| format!("targets[{position}]: {reason}"))?;
    }
    Ok(())
}

/// The variation each key of `kind` is targeted to (the first, should one be listed twice).
fn targeted_keys<'f>(flag: &'f Flag, kind: &str) -> HashMap<&'f str, i64> {
    let lists = if kind == USER_KIND {
        &flag.targets
    } else {
        &flag.context_targets
    };
    let mut targeted = HashMap::new();
    for list in lists.iter().filter(|list| list_kind(list) == kind) {
        for key in &list.values {
            targeted.entry(key.as_str()).or_insert(list.variation);
        }
    }
    targeted
}

/// The lists holding keys of `kind`: `targets` for `user`, else that kind's `contextTargets`.
fn lists_mut<'f>(flag: &'f mut Flag, kind: &'f str) -> impl Iterator<Item = &'f mut Target> + 'f {
    let lists = if kind == USER_KIND {
        &mut flag.targets
    } else {
        &mut flag.context_targets
    };
    lists.iter_mut().filter(move |list| list_kind(list) == kind)
}

/// The list of `kind` and `variation`, added last if there is none.
fn list_mut<'f>(flag: &'f mut Flag, kind: &str, variation: i64) -> &'f mut Target {
    let (lists, context_kind) = if kind == USER_KIND {
        (&mut flag.targets, None)
    } else {
        (&mut flag.context_targets, Some(kind.to_owned()))
    };
    let position = lists
        .iter()
        .position(|list| list.variation == variation && list_kind(list) == kind);
    let position = position.unwrap_or_else(|| {
        lists.push(Target {
            context_kind,
            values: Vec::new(),
            variation,
        });
        lists.len() - 1
    });
    &mut lists[position]
}

/// Drops empty lists and their placeholders, and gives every `targets` entry a placeholder.
fn tidy(flag: &mut Flag) {
    flag.targets.retain(|list| !list.values.is_empty());
    let user_variations: HashSet<i64> = flag.targets.iter().map(|list| list.variation).collect();
    flag.context_targets.retain(|list| {
        !list.values.is_empty() || (is_user(list) && user_variations.contains(&list.variation))
    });
    for variation in flag.targets.iter().map(|list| list.variation) {
        let has_placeholder = flag
            .context_targets
            .iter()
            .any(|list| is_placeholder(list) && list.variation == variation);
        if !has_placeholder {
            flag.context_targets.push(Target {
                context_kind: Some(USER_KIND.to_owned()),
                values: Vec::new(),
                variation,
            });
        }
    }
}

/// A list's kind; `targets` entries and old `contextTargets` entries may omit `user`.
fn list_kind(list: &Target) -> &str {
    list.context_kind.as_deref().unwrap_or(USER_KIND)
}

fn is_user(list: &Target) -> bool {
    list_kind(list) == USER_KIND
}

fn is_placeholder(list: &Target) -> bool {
    is_user(list) && list.values.is_empty()
}
