//! Rules of flags and segments: adding, removing, reordering, their clauses, and what a flag
//! rule or the fallthrough serves.

use std::collections::HashSet;

use vexil_eval::{Clause, Flag, FlagRule, SegmentRule, VariationOrRollout};

use super::params::{index, ClauseParam, RolloutParam, RuleParam};

/// What flag rules and segment rules have in common.
pub(super) trait Rule {
    fn id(&self) -> &str;
    fn clauses_mut(&mut self) -> &mut Vec<Clause>;
}

impl Rule for FlagRule {
    fn id(&self) -> &str {
        &self.id
    }
    fn clauses_mut(&mut self) -> &mut Vec<Clause> {
        &mut self.clauses
    }
}

impl Rule for SegmentRule {
    fn id(&self) -> &str {
        &self.id
    }
    fn clauses_mut(&mut self) -> &mut Vec<Clause> {
        &mut self.clauses
    }
}

/// The rule with id `rule_id`.
pub(super) fn find<'r, R: Rule>(rules: &'r mut [R], rule_id: &str) -> Result<&'r mut R, String> {
    let position = position(rules, rule_id)?;
    Ok(&mut rules[position])
}

/// `removeRule`.
pub(super) fn remove<R: Rule>(rules: &mut Vec<R>, rule_id: &str) -> Result<(), String> {
    let position = position(rules, rule_id)?;
    rules.remove(position);
    Ok(())
}

/// Inserts `rule` before the rule with id `before_rule_id`, or last.
pub(super) fn insert<R: Rule>(
    rules: &mut Vec<R>,
    rule: R,
    before_rule_id: Option<&str>,
) -> Result<(), String> {
    let position = match before_rule_id {
        Some(before) => position(rules, before)?,
        None => rules.len(),
    };
    rules.insert(position, rule);
    Ok(())
}

/// The id of a new rule: `rule_id` if given, else a generated one; either must be unused.
pub(super) fn new_id<R: Rule>(
    rules: &[R],
    rule_id: Option<&str>,
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<String, String> {
    let id = match rule_id {
        Some("") => return Err("`ruleId` must not be empty".to_owned()),
        Some(id) => id.to_owned(),
        None => new_rule_id(),
    };
    if rules.iter().any(|rule| rule.id() == id) {
        return Err(format!("a rule with id `{id}` already exists"));
    }
    Ok(id)
}

/// `reorderRules`: `rule_ids` must name every rule once.
pub(super) fn reorder<R: Rule>(rules: &mut Vec<R>, rule_ids: &[String]) -> Result<(), String> {
    let mut seen = HashSet::new();
    for id in rule_ids {
        if !seen.insert(id.as_str()) {
            return Err(format!("`ruleIds` lists `{id}` twice"));
        }
        position(rules, id)?;
    }
    if let Some(missing) = rules.iter().find(|rule| !seen.contains(rule.id())) {
        return Err(format!(
            "`ruleIds` must list every rule; it lacks `{}`",
            missing.id()
        ));
    }
    let mut old: Vec<Option<R>> = std::mem::take(rules).into_iter().map(Some).collect();
    for id in rule_ids {
        let position = old
            .iter()
            .position(|rule| rule.as_ref().is_some_and(|rule| rule.id() == id))
            .expect("every listed id names a rule, and each is taken once");
        rules.extend(old[position].take());
    }
    Ok(())
}

/// `updateRuleClauses`: replaces the rule's clauses.
pub(super) fn update_clauses<R: Rule>(
    rules: &mut [R],
    rule_id: &str,
    clauses: &[ClauseParam],
) -> Result<(), String> {
    *find(rules, rule_id)?.clauses_mut() = clauses.iter().map(ClauseParam::to_clause).collect();
    Ok(())
}

/// `addClauses`: appends clauses to the rule.
pub(super) fn add_clauses<R: Rule>(
    rules: &mut [R],
    rule_id: &str,
    clauses: &[ClauseParam],
) -> Result<(), String> {
    if clauses.is_empty() {
        return Err("`clauses` must not be empty".to_owned());
    }
    let rule = find(rules, rule_id)?;
    rule.clauses_mut()
        .extend(clauses.iter().map(ClauseParam::to_clause));
    Ok(())
}

/// `removeClauses`: indices are positions before the removal, each listed once.
pub(super) fn remove_clauses<R: Rule>(
    rules: &mut [R],
    rule_id: &str,
    clause_indices: &[usize],
) -> Result<(), String> {
    if clause_indices.is_empty() {
        return Err("`clauseIndices` must not be empty".to_owned());
    }
    let clauses = find(rules, rule_id)?.clauses_mut();
    let mut removed = HashSet::new();
    for &clause_index in clause_indices {
        check_clause_index(clauses, rule_id, clause_index)?;
        if !removed.insert(clause_index) {
            return Err(format!("`clauseIndices` lists {clause_index} twice"));
        }
    }
    let mut position = 0;
    clauses.retain(|_| {
        position += 1;
        !removed.contains(&(position - 1))
    });
    Ok(())
}

/// `updateClause`: replaces one clause.
pub(super) fn update_clause<R: Rule>(
    rules: &mut [R],
    rule_id: &str,
    clause_index: usize,
    clause: &ClauseParam,
) -> Result<(), String> {
    let clauses = find(rules, rule_id)?.clauses_mut();
    check_clause_index(clauses, rule_id, clause_index)?;
    clauses[clause_index] = clause.to_clause();
    Ok(())
}

/// `addRule` of a flag.
pub(super) fn add_flag_rule(
    flag: &mut Flag,
    rule: &RuleParam,
    before_rule_id: Option<&str>,
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<(), String> {
    let rule = flag_rule(flag, &flag.rules, rule, new_rule_id)?;
    insert(&mut flag.rules, rule, before_rule_id)
}

/// `replaceRules` of a flag.
pub(super) fn replace_flag_rules(
    flag: &mut Flag,
    rules: &[RuleParam],
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<(), String> {
    let mut replaced = Vec::with_capacity(rules.len());
    for (position, rule) in rules.iter().enumerate() {
        let rule = flag_rule(flag, &replaced, rule, new_rule_id)
            .map_err(|reason| format!("rules[{position}]: {reason}"))?;
        replaced.push(rule);
    }
    flag.rules = replaced;
    Ok(())
}

/// A new flag rule with an id unused in `rules`.
fn flag_rule(
    flag: &Flag,
    rules: &[FlagRule],
    rule: &RuleParam,
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<FlagRule, String> {
    let variation_or_rollout = serve(flag, rule.variation, rule.rollout.as_ref())?;
    Ok(FlagRule {
        id: new_id(rules, rule.rule_id.as_deref(), new_rule_id)?,
        clauses: rule.clauses.iter().map(ClauseParam::to_clause).collect(),
        variation_or_rollout,
        track_events: rule.track_events,
    })
}

/// What a rule or the fallthrough serves: exactly one of a variation and a rollout, whose
/// variation indices are in range.
pub(super) fn serve(
    flag: &Flag,
    variation: Option<usize>,
    rollout: Option<&RolloutParam>,
) -> Result<VariationOrRollout, String> {
    match (variation, rollout) {
        (Some(variation), None) => Ok(VariationOrRollout {
            variation: Some(variation_index(flag, variation)?),
            rollout: None,
        }),
        (None, Some(rollout)) => {
            if rollout.variations.is_empty() {
                return Err("`rollout.variations` must not be empty".to_owned());
            }
            for bucket in &rollout.variations {
                variation_index(flag, bucket.variation)?;
            }
            Ok(VariationOrRollout {
                variation: None,
                rollout: Some(rollout.to_rollout()),
            })
        }
        (Some(_), Some(_)) => Err("set exactly one of `variation` and `rollout`, not both".into()),
        (None, None) => Err("set exactly one of `variation` and `rollout`".to_owned()),
    }
}

/// `variation` as the model stores it, if it is one of the flag's variations.
pub(super) fn variation_index(flag: &Flag, variation: usize) -> Result<i64, String> {
    let count = flag.variations.len();
    if variation < count {
        Ok(index(variation))
    } else {
        Err(format!(
            "variation {variation} is out of range: the flag has {}",
            counted(count, "variation")
        ))
    }
}

fn position<R: Rule>(rules: &[R], rule_id: &str) -> Result<usize, String> {
    if rule_id.is_empty() {
        return Err("`ruleId` must not be empty".to_owned());
    }
    rules
        .iter()
        .position(|rule| rule.id() == rule_id)
        .ok_or_else(|| format!("no rule with id `{rule_id}`"))
}

fn check_clause_index(
    clauses: &[Clause],
    rule_id: &str,
    clause_index: usize,
) -> Result<(), String> {
    if clause_index < clauses.len() {
        Ok(())
    } else {
        Err(format!(
            "clause index {clause_index} is out of range: rule `{rule_id}` has {}",
            counted(clauses.len(), "clause")
        ))
    }
}

/// `no clauses`, `1 clause`, `2 clauses`.
fn counted(count: usize, noun: &str) -> String {
    match count {
        0 => format!("no {noun}s"),
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}
