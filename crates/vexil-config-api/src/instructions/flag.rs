//! The instructions that change one environment's targeting of a flag, and applying them.

use serde::{Deserialize, Serialize};
use vexil_eval::Flag;

use super::params::{ClauseParam, PrerequisiteParam, RolloutParam, RuleParam, TargetParam};
use super::{prerequisites, rules, targets, InstructionError};

/// One step of a flag's semantic patch, tagged by `kind` as in LaunchDarkly's semantic patch.
///
/// Variations are addressed by index (`"variation": 1`): Vexil variations have no ids. Rules
/// are addressed by `ruleId`, clauses by their index in the rule. A target list without
/// `contextKind` targets `user` contexts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum FlagInstruction {
    /// `{"kind": "turnFlagOn"}`. Empty braces make serde reject unknown fields here too.
    TurnFlagOn {},
    /// `{"kind": "turnFlagOff"}`.
    TurnFlagOff {},
    /// `{"kind": "addTargets", "contextKind": "user", "variation": 1, "values": ["u-1"]}`.
    /// A key already targeted to this variation is left as it is; one targeted to another
    /// variation is an error (remove it there first, in the same patch).
    AddTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Variation index.
        variation: usize,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "removeTargets", "contextKind": "user", "variation": 1, "values": ["u-1"]}`.
    /// Every key must be targeted to this variation.
    RemoveTargets {
        /// Context kind; absent means `user`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_kind: Option<String>,
        /// Variation index.
        variation: usize,
        /// Context keys.
        values: Vec<String>,
    },
    /// `{"kind": "replaceTargets", "targets": [{"contextKind": "team", "variation": 0,
    /// "values": ["qa"]}]}`: every target list of every kind is replaced; `[]` clears them.
    ReplaceTargets {
        /// The new target lists, in evaluation order.
        targets: Vec<TargetParam>,
    },
    /// `{"kind": "addRule", "clauses": [...], "variation": 1}` or with `"rollout": {...}`;
    /// optional `ruleId` (default: a new id), `beforeRuleId` (default: last) and `trackEvents`.
    AddRule {
        /// Rule id; absent means a new generated id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule_id: Option<String>,
        /// AND-ed clauses.
        clauses: Vec<ClauseParam>,
        /// Variation served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variation: Option<usize>,
        /// Rollout served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollout: Option<RolloutParam>,
        /// Full events for evaluations matching the rule.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        track_events: bool,
        /// The new rule goes before this rule; absent means after every rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_rule_id: Option<String>,
    },
    /// `{"kind": "removeRule", "ruleId": "r1"}`.
    RemoveRule {
        /// Id of the rule.
        rule_id: String,
    },
    /// `{"kind": "replaceRules", "rules": [{"clauses": [...], "variation": 0}]}`: every rule is
    /// replaced; rules without `ruleId` get a new id.
    ReplaceRules {
        /// The new rules, in order.
        rules: Vec<RuleParam>,
    },
    /// `{"kind": "reorderRules", "ruleIds": ["r2", "r1"]}`: every rule id, once, in the new order.
    ReorderRules {
        /// Every rule id of the flag.
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
    /// `{"kind": "removeClauses", "ruleId": "r1", "clauseIndices": [0, 2]}`.
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
    /// `{"kind": "updateRuleVariationOrRollout", "ruleId": "r1", "variation": 0}` or with
    /// `"rollout": {...}`.
    UpdateRuleVariationOrRollout {
        /// Id of the rule.
        rule_id: String,
        /// Variation served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variation: Option<usize>,
        /// Rollout served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollout: Option<RolloutParam>,
    },
    /// `{"kind": "updateRuleTrackEvents", "ruleId": "r1", "trackEvents": true}`.
    UpdateRuleTrackEvents {
        /// Id of the rule.
        rule_id: String,
        /// Full events for evaluations matching the rule.
        track_events: bool,
    },
    /// `{"kind": "updateFallthroughVariationOrRollout", "variation": 0}` or with
    /// `"rollout": {...}`.
    UpdateFallthroughVariationOrRollout {
        /// Variation served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        variation: Option<usize>,
        /// Rollout served; exactly one of `variation` and `rollout`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rollout: Option<RolloutParam>,
    },
    /// `{"kind": "updateOffVariation", "variation": 0}`.
    UpdateOffVariation {
        /// Variation served when the flag is off.
        variation: usize,
    },
    /// `{"kind": "updateTrackEvents", "trackEvents": true}`.
    UpdateTrackEvents {
        /// Full events for every evaluation.
        track_events: bool,
    },
    /// `{"kind": "updateTrackEventsFallthrough", "trackEvents": true}`.
    UpdateTrackEventsFallthrough {
        /// Full events for evaluations that fall through.
        track_events: bool,
    },
    /// `{"kind": "addPrerequisite", "key": "payments", "variation": 1}`; `variation` is an
    /// index into the prerequisite flag's variations, checked by validation.
    AddPrerequisite {
        /// Key of the prerequisite flag.
        key: String,
        /// Variation index the prerequisite flag must return.
        variation: usize,
    },
    /// `{"kind": "removePrerequisite", "key": "payments"}`.
    RemovePrerequisite {
        /// Key of the prerequisite flag.
        key: String,
    },
    /// `{"kind": "updatePrerequisite", "key": "payments", "variation": 0}`.
    UpdatePrerequisite {
        /// Key of the prerequisite flag.
        key: String,
        /// Variation index the prerequisite flag must return.
        variation: usize,
    },
    /// `{"kind": "replacePrerequisites", "prerequisites": [{"key": "payments",
    /// "variation": 1}]}`.
    ReplacePrerequisites {
        /// The new prerequisites, in order.
        prerequisites: Vec<PrerequisiteParam>,
    },
}

impl FlagInstruction {
    /// The instruction's `kind`, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::TurnFlagOn {} => "turnFlagOn",
            Self::TurnFlagOff {} => "turnFlagOff",
            Self::AddTargets { .. } => "addTargets",
            Self::RemoveTargets { .. } => "removeTargets",
            Self::ReplaceTargets { .. } => "replaceTargets",
            Self::AddRule { .. } => "addRule",
            Self::RemoveRule { .. } => "removeRule",
            Self::ReplaceRules { .. } => "replaceRules",
            Self::ReorderRules { .. } => "reorderRules",
            Self::UpdateRuleClauses { .. } => "updateRuleClauses",
            Self::AddClauses { .. } => "addClauses",
            Self::RemoveClauses { .. } => "removeClauses",
            Self::UpdateClause { .. } => "updateClause",
            Self::UpdateRuleVariationOrRollout { .. } => "updateRuleVariationOrRollout",
            Self::UpdateRuleTrackEvents { .. } => "updateRuleTrackEvents",
            Self::UpdateFallthroughVariationOrRollout { .. } => {
                "updateFallthroughVariationOrRollout"
            }
            Self::UpdateOffVariation { .. } => "updateOffVariation",
            Self::UpdateTrackEvents { .. } => "updateTrackEvents",
            Self::UpdateTrackEventsFallthrough { .. } => "updateTrackEventsFallthrough",
            Self::AddPrerequisite { .. } => "addPrerequisite",
            Self::RemovePrerequisite { .. } => "removePrerequisite",
            Self::UpdatePrerequisite { .. } => "updatePrerequisite",
            Self::ReplacePrerequisites { .. } => "replacePrerequisites",
        }
    }
}

/// Applies `instructions` in order to a copy of `flag`: all of them, or none if one fails.
///
/// `new_rule_id` names rules added without a `ruleId` (the REST layer passes UUIDs, tests a
/// counter). The result is not validated beyond what each instruction needs to make sense;
/// run `vexil_eval::validate` on it before storing it.
pub fn apply_flag_instructions(
    flag: &Flag,
    instructions: &[FlagInstruction],
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<Flag, InstructionError> {
    let mut flag = flag.clone();
    for (index, instruction) in instructions.iter().enumerate() {
        apply(&mut flag, instruction, new_rule_id).map_err(|reason| InstructionError {
            index,
            kind: instruction.kind(),
            reason,
        })?;
    }
    Ok(flag)
}

fn apply(
    flag: &mut Flag,
    instruction: &FlagInstruction,
    new_rule_id: &mut dyn FnMut() -> String,
) -> Result<(), String> {
    use FlagInstruction as I;
    match instruction {
        I::TurnFlagOn {} => flag.on = true,
        I::TurnFlagOff {} => flag.on = false,
        I::AddTargets {
            context_kind,
            variation,
            values,
        } => targets::add(flag, context_kind.as_deref(), *variation, values)?,
        I::RemoveTargets {
            context_kind,
            variation,
            values,
        } => targets::remove(flag, context_kind.as_deref(), *variation, values)?,
        I::ReplaceTargets { targets } => targets::replace(flag, targets)?,
        I::AddRule {
            rule_id,
            clauses,
            variation,
            rollout,
            track_events,
            before_rule_id,
        } => {
            let rule = RuleParam {
                rule_id: rule_id.clone(),
                clauses: clauses.clone(),
                variation: *variation,
                rollout: rollout.clone(),
                track_events: *track_events,
            };
            rules::add_flag_rule(flag, &rule, before_rule_id.as_deref(), new_rule_id)?;
        }
        I::RemoveRule { rule_id } => {
            rules::remove(&mut flag.rules, rule_id)?;
        }
        I::ReplaceRules { rules } => rules::replace_flag_rules(flag, rules, new_rule_id)?,
        I::ReorderRules { rule_ids } => rules::reorder(&mut flag.rules, rule_ids)?,
        I::UpdateRuleClauses { rule_id, clauses } => {
            rules::update_clauses(&mut flag.rules, rule_id, clauses)?;
        }
        I::AddClauses { rule_id, clauses } => {
            rules::add_clauses(&mut flag.rules, rule_id, clauses)?;
        }
        I::RemoveClauses {
            rule_id,
            clause_indices,
        } => rules::remove_clauses(&mut flag.rules, rule_id, clause_indices)?,
        I::UpdateClause {
            rule_id,
            clause_index,
            clause,
        } => rules::update_clause(&mut flag.rules, rule_id, *clause_index, clause)?,
        I::UpdateRuleVariationOrRollout {
            rule_id,
            variation,
            rollout,
        } => {
            let serve = rules::serve(flag, *variation, rollout.as_ref())?;
            rules::find(&mut flag.rules, rule_id)?.variation_or_rollout = serve;
        }
        I::UpdateRuleTrackEvents {
            rule_id,
            track_events,
        } => rules::find(&mut flag.rules, rule_id)?.track_events = *track_events,
        I::UpdateFallthroughVariationOrRollout { variation, rollout } => {
            flag.fallthrough = rules::serve(flag, *variation, rollout.as_ref())?;
        }
        I::UpdateOffVariation { variation } => {
            flag.off_variation = Some(rules::variation_index(flag, *variation)?);
        }
        I::UpdateTrackEvents { track_events } => flag.track_events = *track_events,
        I::UpdateTrackEventsFallthrough { track_events } => {
            flag.track_events_fallthrough = *track_events;
        }
        I::AddPrerequisite { key, variation } => prerequisites::add(flag, key, *variation)?,
        I::RemovePrerequisite { key } => prerequisites::remove(flag, key)?,
        I::UpdatePrerequisite { key, variation } => {
            prerequisites::update(flag, key, *variation)?;
        }
        I::ReplacePrerequisites { prerequisites } => {
            prerequisites::replace(flag, prerequisites)?;
        }
    }
    Ok(())
}
