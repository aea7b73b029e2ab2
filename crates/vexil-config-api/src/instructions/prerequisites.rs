//! A flag's prerequisites, one per prerequisite flag key.
//!
//! A prerequisite's `variation` indexes the *prerequisite* flag's variations, which this pure
//! module cannot see: `vexil_eval::validate::validate_prerequisites` checks it, along with
//! whether the flag exists and whether the chain is a cycle.

use std::collections::HashSet;

use vexil_eval::{Flag, Prerequisite};

use super::params::{index, PrerequisiteParam};

/// `addPrerequisite`: appended; the key must not be a prerequisite yet.
pub(super) fn add(flag: &mut Flag, key: &str, variation: usize) -> Result<(), String> {
    check_key(flag, key)?;
    if position(flag, key).is_some() {
        return Err(format!(
            "`{key}` is already a prerequisite; use updatePrerequisite to change its variation"
        ));
    }
    flag.prerequisites.push(prerequisite(key, variation));
    Ok(())
}

/// `removePrerequisite`.
pub(super) fn remove(flag: &mut Flag, key: &str) -> Result<(), String> {
    let position = existing(flag, key)?;
    flag.prerequisites.remove(position);
    Ok(())
}

/// `updatePrerequisite`: changes the variation the prerequisite flag must return.
pub(super) fn update(flag: &mut Flag, key: &str, variation: usize) -> Result<(), String> {
    let position = existing(flag, key)?;
    flag.prerequisites[position].variation = index(variation);
    Ok(())
}

/// `replacePrerequisites`: each key once.
pub(super) fn replace(flag: &mut Flag, prerequisites: &[PrerequisiteParam]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (position, prerequisite) in prerequisites.iter().enumerate() {
        check_key(flag, &prerequisite.key)
            .map_err(|reason| format!("prerequisites[{position}]: {reason}"))?;
        if !seen.insert(prerequisite.key.as_str()) {
            return Err(format!(
                "prerequisites[{position}]: `{}` is listed twice",
                prerequisite.key
            ));
        }
    }
    flag.prerequisites = prerequisites
        .iter()
        .map(|prerequisite| self::prerequisite(&prerequisite.key, prerequisite.variation))
        .collect();
    Ok(())
}

fn check_key(flag: &Flag, key: &str) -> Result<(), String> {
    if key.is_empty() {
        Err("`key` must not be empty".to_owned())
    } else if key == flag.key {
        Err(format!("flag `{key}` cannot be its own prerequisite"))
    } else {
        Ok(())
    }
}

fn existing(flag: &Flag, key: &str) -> Result<usize, String> {
    position(flag, key).ok_or_else(|| format!("`{key}` is not a prerequisite of this flag"))
}

fn position(flag: &Flag, key: &str) -> Option<usize> {
    flag.prerequisites
        .iter()
        .position(|prerequisite| prerequisite.key == key)
}

fn prerequisite(key: &str, variation: usize) -> Prerequisite {
    Prerequisite {
        key: key.to_owned(),
        variation: index(variation),
    }
}
