//! The instructions that change a segment, and applying them.
//!
//! `user` keys live in `included`/`excluded`, other kinds in `includedContexts`/
//! `excludedContexts`, one entry per kind (spec 1.8, Vexil choice). A key may be both included
//! and excluded: inclusion wins in evaluation, as in LaunchDarkly.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use vexil_eval::{Segment, SegmentRule, SegmentTarget};

use super::params::{ClauseParam, USER_KIND};
use super::{require_values, rules, InstructionError};

/// One step of a segment's semantic patch, tagged by `kind`. Rules are addressed by `ruleId`,
/// clauses by their index in the rule; a target list without `contextKind` is of `user` keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum SegmentInstruction {
    /// `{"kind": "addIncludedTargets", "contextKind": "user", "values": ["u-1"]}`; keys already
    /// included stay.
    AddIncludedTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "removeIncludedTargets", "values": ["u-1"]}`; every key must be included.
    RemoveIncludedTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "addExcludedTargets", "contextKind": "team", "values": ["qa"]}`.
    AddExcludedTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "removeExcludedTargets", "values": ["u-9"]}`; every key must be excluded.
    RemoveExcludedTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "addRule", "clauses": [...], "weight": 25000, "rolloutContextKind": "user",
    /// "bucketBy": "key"}`; optional `ruleId` (default: a new id) and `beforeRuleId`
    /// (default: last). Without `weight` the rule admits every context its clauses match.
    AddRule {
        /// Rule id; absent means a new generated id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_id: Option<String>,
        /// AND-ed clauses.
        clauses: Vec<ClauseParam>,
        /// Share of 100000 admitted when the clauses match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<u32>,
        /// Attribute hashed for the weight check; absent means `key`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bucket_by: Option<String>,
        /// Kind bucketed for the weight check.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollout_context_kind: Option<String>,
        /// The new rule goes before this rule; absent means after every rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_rule_id: Option<String>,
    },
    /// `{"kind": "removeRule", "ruleId": "r1"}`.
    RemoveRule {
        /// Id of the rule.
        rule_id: String,
    },
    /// `{"kind": "reorderRules", "ruleIds": ["r2", "r1"]}`: every rule id, once, in the new order.
    ReorderRules {
        /// Every rule id of the segment.
        rule_ids: Vec<String>,
    },
    /// `{"kind": "updateRuleClauses", "ruleId": "r1", "clauses": [...]}`: replaces the clauses.
    UpdateRuleClauses {
        /// Id of the rule.
        rule_id: String,
        /// The new clauses.
        clauses: Vec<ClauseParam>,
    },
    /// `{"kind": "addClauses", "ruleId": "r1", "clauses": [...]}`: appends clauses.
    AddClauses {
        /// Id of the rule.
        rule_id: String,
        /// Clauses to append.
        clauses: Vec<ClauseParam>,
    },
    /// `{"kind": "removeClauses", "ruleId": "r1", "clauseIndices": [0]}`.
    RemoveClauses {
        /// Id of the rule.
        rule_id: String,
        /// Indices of the clauses to remove, as they are before the removal.
        clause_indices: Vec<usize>,
    },
    /// `{"kind": "updateClause", "ruleId": "r1", "clauseIndex": 0, "clause": {...}}`.
    UpdateClause {
        /// Id of the rule.
        rule_id: String,
        /// Index of the clause to replace.
        clause_index: usize,
        /// The new clause.
        clause: ClauseParam,
    },
    /// `{"kind": "updateRuleRolloutAndContextKind", "ruleId": "r1", "weight": 50000,
    /// "rolloutContextKind": "org", "bucketBy": "key"}`: sets all three; absent ones are
    /// cleared (no `weight`: the rule admits every context its clauses match).
    UpdateRuleRolloutAndContextKind {
        /// Id of the rule.
        rule_id: String,
        /// Share of 100000 admitted when the clauses match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weight: Option<u32>,
        /// Attribute hashed for the weight check; absent means `key`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bucket_by: Option<String>,
        /// Kind bucketed for the weight check.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollout_context_kind: Option<String>,
    },
}

impl SegmentInstruction {
    /// The instruction's `kind`, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AddIncludedTargets { .. } => "addIncludedTargets",
            Self::RemoveIncludedTargets { .. } => "removeIncludedTargets",
            Self::AddExcludedTargets { .. } => "addExcludedTargets",
            Self::RemoveExcludedTargets { .. } => "removeExcludedTargets",
            Self::AddRule { .. } => "addRule",
            Self::RemoveRule { .. } => "removeRule",
            Self::ReorderRules { .. } => "reorderRules",
            Self::UpdateRuleClauses { .. } => "updateRuleClauses",
            Self::AddClauses { .. } => "addClauses",
            Self::RemoveClauses { .. } => "removeClauses",
            Self::UpdateClause { .. } => "updateClause",
            Self::UpdateRuleRolloutAndContextKind { .. } => "updateRuleRolloutAndContextKind",
        }
    }
}

/// Applies `instructions` in order to a copy of `segment`: all of them, or none if one fails.
///
/// `new_rule_id` names rules added without a `ruleId`. The result is not validated beyond what
/// each instruction needs to make sense; run `vexil_eval::validate` on it before storing it.
pub fn apply_segment_instructions(
    segment: &Segment,
    instructions: &[SegmentInstruction],
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<Segment, InstructionError> {
    let mut segment = segment.clone();
    for (index, instruction) in instructions.iter().enumerate() {
        apply(&mut segment, instruction, new_rule_id).map_err(|reason| InstructionError {
            index,
            kind: instruction.kind(),
            reason,
        })?;
    }
    Ok(segment)
}

fn apply(
    segment: &mut Segment,
    instruction: &SegmentInstruction,
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<(), String> {
    use SegmentInstruction as I;
    match instruction {
        I::AddIncludedTargets {
            context_kind,
            values,
        } => {
            let (keys, lists) = (&mut segment.included, &mut segment.included_contexts);
            add_keys(keys, lists, context_kind.as_deref(), values)?;
        }
        I::RemoveIncludedTargets {
            context_kind,
            values,
        } => {
            let (keys, lists) = (&mut segment.included, &mut segment.included_contexts);
            remove_keys(keys, lists, context_kind.as_deref(), values, "included")?;
        }
        I::AddExcludedTargets {
            context_kind,
            values,
        } => {
            let (keys, lists) = (&mut segment.excluded, &mut segment.excluded_contexts);
            add_keys(keys, lists, context_kind.as_deref(), values)?;
        }
        I::RemoveExcludedTargets {
            context_kind,
            values,
        } => {
            let (keys, lists) = (&mut segment.excluded, &mut segment.excluded_contexts);
            remove_keys(keys, lists, context_kind.as_deref(), values, "excluded")?;
        }
        I::AddRule {
            rule_id,
            clauses,
            weight,
            bucket_by,
            rollout_context_kind,
            before_rule_id,
        } => {
            let rule = SegmentRule {
                id: rules::new_id(&segment.rules, rule_id.as_deref(), new_rule_id)?,
                clauses: clauses.iter().map(ClauseParam::to_clause).collect(),
                weight: weight.map(i64::from),
                bucket_by: bucket_by.clone(),
                rollout_context_kind: rollout_context_kind.clone(),
            };
            rules::insert(&mut segment.rules, rule, before_rule_id.as_deref())?;
        }
        I::RemoveRule { rule_id } => rules::remove(&mut segment.rules, rule_id)?,
        I::ReorderRules { rule_ids } => rules::reorder(&mut segment.rules, rule_ids)?,
        I::UpdateRuleClauses { rule_id, clauses } => {
            rules::update_clauses(&mut segment.rules, rule_id, clauses)?;
        }
        I::AddClauses { rule_id, clauses } => {
            rules::add_clauses(&mut segment.rules, rule_id, clauses)?;
        }
        I::RemoveClauses {
            rule_id,
            clause_indices,
        } => rules::remove_clauses(&mut segment.rules, rule_id, clause_indices)?,
        I::UpdateClause {
            rule_id,
            clause_index,
            clause,
        } => rules::update_clause(&mut segment.rules, rule_id, *clause_index, clause)?,
        I::UpdateRuleRolloutAndContextKind {
            rule_id,
            weight,
            bucket_by,
            rollout_context_kind,
        } => {
            let rule = rules::find(&mut segment.rules, rule_id)?;
            rule.weight = weight.map(i64::from);
            rule.bucket_by = bucket_by.clone();
            rule.rollout_context_kind = rollout_context_kind.clone();
        }
    }
    Ok(())
}

/// Adds keys to `keys` (`user`) or to the kind's entry of `lists`, created last if needed.
fn add_keys(
    keys: &mut Vec<String>,
    lists: &mut Vec<SegmentTarget>,
    context_kind: Option<&str>,
    values: &[String],
) -> Result<(), String> {
    require_values(values)?;
    let kind = context_kind.unwrap_or(USER_KIND);
    let keys = if kind == USER_KIND {
        keys
    } else {
        let position = lists.iter().position(|list| list.context_kind == kind);
        let position = position.unwrap_or_else(|| {
            lists.push(SegmentTarget {
                context_kind: kind.to_owned(),
                values: Vec::new(),
            });
            lists.len() - 1
        });
        &mut lists[position].values
    };
    let mut listed: HashSet<&str> = keys.iter().map(String::as_str).collect();
    let new_keys: Vec<String> = values
        .iter()
        .filter(|value| listed.insert(value.as_str()))
        .cloned()
        .collect();
    keys.extend(new_keys);
    Ok(())
}

/// Removes keys, each of which must be listed; a kind's entry left empty is dropped.
fn remove_keys(
    keys: &mut Vec<String>,
    lists: &mut Vec<SegmentTarget>,
    context_kind: Option<&str>,
    values: &[String],
    listed: &str,
) -> Result<(), String> {
    require_values(values)?;
    let kind = context_kind.unwrap_or(USER_KIND);
    let mut key_lists: Vec<&mut Vec<String>> = if kind == USER_KIND {
        vec![keys]
    } else {
        lists
            .iter_mut()
            .filter(|list| list.context_kind == kind)
            .map(|list| &mut list.values)
            .collect()
    };
    let present: HashSet<&str> = key_lists
        .iter()
        .flat_map(|keys| keys.iter().map(String::as_str))
        .collect();
    if let Some(value) = values
        .iter()
        .find(|value| !present.contains(value.as_str()))
    {
        return Err(format!("{kind} key `{value}` is not {listed}"));
    }
    let removed: HashSet<&str> = values.iter().map(String::as_str).collect();
    for keys in &mut key_lists {
        keys.retain(|key| !removed.contains(key.as_str()));
    }
    lists.retain(|list| !list.values.is_empty());
    Ok(())
}
