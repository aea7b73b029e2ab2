//! Semantic patch instructions (`{"kind": "turnFlagOn"}`, ...) applied to a flag or segment. Pure: no I/O.
//!
//! The REST layer decodes a PATCH body into a list of [`FlagInstruction`]s or
//! [`SegmentInstruction`]s (plain serde: an unknown `kind`, an unknown field or a missing one is
//! a decoding error naming the instruction's index), then calls [`apply_flag_instructions`] or
//! [`apply_segment_instructions`], which apply them in order to a copy of the item: all of them
//! or, at the first failing one, none. The result still goes through `vexil_eval::validate`
//! before it is stored; the checks here are only those that make an instruction meaningless
//! (a rule id that does not exist, a key to remove that is not there, a variation index out of
//! range), so that the error names the instruction at fault.
//!
//! Instructions never touch `version`: the store sets it.
//!
//! Start with [`FlagInstruction`] in `flag.rs`; `params.rs` holds the shapes shared by several
//! instructions (clauses, rollouts, target lists).

mod flag;
mod params;
mod prerequisites;
mod rules;
mod segment;
mod targets;

pub use flag::{apply_flag_instructions, FlagInstruction};
pub use params::{
    BucketParam, ClauseParam, PrerequisiteParam, RolloutParam, RuleParam, TargetParam,
};
pub use segment::{apply_segment_instructions, SegmentInstruction};

/// Why an instruction could not be applied; no instruction of the list was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("instructions[{index}] ({kind}): {reason}")]
pub struct InstructionError {
    /// Position of the failing instruction in the list.
    pub index: usize,
    /// The failing instruction's `kind`, such as `removeRule`.
    pub kind: &'static str,
    /// What is wrong, lowercase and without a trailing period.
    pub reason: String,
}

/// Target instructions name at least one key: an empty list is more likely a mistake than a
/// deliberate no-op.
fn require_values(values: &[String]) -> Result<(), String> {
    if values.is_empty() {
        Err("`values` must not be empty".to_owned())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
