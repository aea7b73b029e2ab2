//! Changing one environment's targeting of a flag with semantic instructions: the one
//! path shared by PATCH, applied approval requests and scheduled changes.

use vexil_eval::Flag;

use super::flags::{save_targeting, TargetingChange};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::instructions::{apply_flag_instructions, FlagInstruction};
use crate::store::rows::{Environment, FlagRow, Project};
use crate::store::ConfigWrite;

/// Critical environments take flag changes only through approval requests, except from
/// admin tokens allowed to bypass approvals.
pub fn refuse_direct_write(caller: &Caller, environment: &Environment) -> ApiResult<()> {
    let may_bypass = caller.actor.role == Role::Admin && caller.actor.can_bypass_approvals;
    if environment.is_critical && !may_bypass {
        Err(ApiError::forbidden(format!(
            "environment `{}` is critical: flag changes there go through an approval request \
             (POST /api/v1/projects/{{project}}/flags/{{flag}}/approval-requests), \
             unless an admin token that may bypass approvals makes them",
            environment.key
        )))
    } else {
        Ok(())
    }
}

/// Applies instructions to the flag's current targeting in the environment, all or
/// none, and stores the result as the next version.
#[allow(clippy::too_many_arguments)]
pub async fn apply_instructions(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    flag: &FlagRow,
    instructions: &[FlagInstruction],
    action: &'static str,
    comment: String,
) -> ApiResult<Flag> {
    if instructions.is_empty() {
        return Err(ApiError::invalid_field("instructions", "must not be empty"));
    }
    let current = session
        .flag_environment_config_for_update(flag.id, environment.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "flag `{}` has no targeting in environment `{}`",
                flag.key, environment.key
            ))
        })?;
    let mut new_rule_id = || uuid::Uuid::new_v4().to_string();
    let targeting =
        apply_flag_instructions(&flag.sdk_flag(&current), instructions, &mut new_rule_id).map_err(
            |error| {
                ApiError::invalid_field(
                    format!("instructions[{}]", error.index),
                    format!("{} ({})", error.reason, error.kind),
                )
            },
        )?;
    save_targeting(
        session,
        TargetingChange {
            action,
            comment,
            caller,
        },
        project,
        environment,
        flag,
        &current,
        targeting,
    )
    .await
}
