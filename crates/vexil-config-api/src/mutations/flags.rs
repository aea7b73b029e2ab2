//! Flag changes: creation, targeting per environment, project-level fields, archiving and
//! deletion. Each bumps the version of every environment it touches (spec 5.5), records
//! the FlagSync change and the audit entry, all in the caller's transaction.

use serde_json::Value;
use uuid::Uuid;
use vexil_eval::{Flag, Segment, VariationOrRollout};

use super::validation;
use crate::audit::AuditRecord;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::kinds::{ChangeKind, ItemKind};
use crate::store::params::FlagFields;
use crate::store::rows::{Environment, FlagEnvironmentRow, FlagRow, Json, Project};
use crate::store::{ConfigRead, ConfigWrite, StoreError};
use crate::views::FlagView;

/// The resource path audit entries name.
pub fn resource(project: &Project, environment: Option<&Environment>, flag_key: &str) -> String {
    match environment {
        Some(environment) => format!(
            "projects/{}/environments/{}/flags/{flag_key}",
            project.key, environment.key
        ),
        None => format!("projects/{}/flags/{flag_key}", project.key),
    }
}

/// A new flag's targeting in an environment: off, serving `off_variation`, and falling
/// through to `on_variation` once turned on. The salt is the flag's id, so it is the same
/// in every environment and never changes.
pub fn default_targeting(flag: &FlagRow, on_variation: i64, off_variation: i64) -> Flag {
    Flag {
        key: flag.key.clone(),
        on: false,
        off_variation: Some(off_variation),
        fallthrough: VariationOrRollout {
            variation: Some(on_variation),
            rollout: None,
        },
        salt: flag.id.simple().to_string(),
        ..Flag::default()
    }
}

/// Creates a flag and its default targeting in every environment of the project.
pub async fn create(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    key: &str,
    fields: &FlagFields<'_>,
    on_variation: i64,
    off_variation: i64,
) -> ApiResult<FlagRow> {
    let flag = session
        .insert_flag(project.id, key, fields)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "project `{}` already has a flag `{key}`",
                project.key
            ))
        })?;
    let targeting = default_targeting(&flag, on_variation, off_variation);
    let mut environment_list = session.list_environments(project.id).await?;
    environment_list.sort_by_key(|environment| environment.id);
    for environment in &environment_list {
        add_to_environment(session, &flag, environment, &targeting).await?;
    }
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "flag.create",
                resource: resource(project, None, key),
                project_key: Some(project.key.clone()),
                flag_key: Some(key.to_owned()),
                after: Some(FlagView::project_fields(&flag).to_json()),
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(flag)
}

/// Gives an existing flag targeting in a (new) environment, continuing after a tombstone
/// left by an earlier flag with the same key.
pub async fn add_to_environment(
    session: &mut dyn ConfigWrite,
    flag: &FlagRow,
    environment: &Environment,
    targeting: &Flag,
) -> ApiResult<()> {
    let version = session
        .take_tombstone(environment.id, ItemKind::Flag, &flag.key)
        .await?
        .unwrap_or(0)
        + 1;
    let row = FlagEnvironmentRow {
        environment_id: environment.id,
        environment_key: environment.key.clone(),
        version,
        config: Json(targeting.clone()),
        updated_at: crate::store::now(),
    };
    let sdk_flag = flag.sdk_flag(&row);
    validation::flag(&sdk_flag, &[], &[])?;
    session
        .upsert_flag_environment_config(flag.id, environment.id, version, &sdk_flag)
        .await?;
    if !flag.is_archived {
        record_upsert(session, environment.id, &sdk_flag).await?;
    }
    Ok(())
}

/// What a targeting change is and why, for the audit log.
pub struct TargetingChange<'a> {
    pub action: &'static str,
    pub comment: String,
    pub caller: &'a Caller,
}

/// Validates and stores new targeting for one environment, as the next version.
pub async fn save_targeting(
    session: &mut dyn ConfigWrite,
    change: TargetingChange<'_>,
    project: &Project,
    environment: &Environment,
    flag: &FlagRow,
    current: &FlagEnvironmentRow,
    targeting: Flag,
) -> ApiResult<Flag> {
    let before = flag.sdk_flag(current);
    let next = FlagEnvironmentRow {
        version: current.version + 1,
        config: Json(targeting),
        ..current.clone()
    };
    let candidate = flag.sdk_flag(&next);
    let (others, segments) = neighbours_for(session, environment, &candidate).await?;
    validation::flag(&candidate, &others, &segments)?;
    session
        .upsert_flag_environment_config(flag.id, environment.id, next.version, &candidate)
        .await?;
    if !flag.is_archived {
        record_upsert(session, environment.id, &candidate).await?;
    }
    session
        .append_audit(
            change.caller,
            AuditRecord {
                action: change.action,
                resource: resource(project, Some(environment), &flag.key),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                flag_key: Some(flag.key.clone()),
                before: Some(sdk_json(&before)),
                after: Some(sdk_json(&candidate)),
                comment: change.comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(candidate)
}

/// The other flags and the segments of the environment, loaded only when the candidate
/// refers to some (prerequisites, segment clauses): a flag without references cannot
/// close a cycle or point at something missing.
async fn neighbours_for(
    session: &mut dyn ConfigRead,
    environment: &Environment,
    candidate: &Flag,
) -> ApiResult<(Vec<Flag>, Vec<Segment>)> {
    let uses_segments = candidate.rules.iter().any(|rule| {
        rule.clauses
            .iter()
            .any(|clause| clause.op == "segmentMatch")
    });
    let others = if candidate.prerequisites.is_empty() {
        Vec::new()
    } else {
        session
            .sdk_flags(environment.id)
            .await?
            .into_iter()
            .filter(|other| other.key != candidate.key)
            .collect()
    };
    let segments = if uses_segments {
        session
            .list_segments(environment.id)
            .await?
            .iter()
            .map(|row| row.sdk_segment())
            .collect()
    } else {
        Vec::new()
    };
    Ok((others, segments))
}

/// Changes project-level fields; every environment's version moves on, because SDKs see
/// the variations and client-side availability.
pub async fn update_project_fields(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    flag: &FlagRow,
    fields: &FlagFields<'_>,
    comment: String,
) -> ApiResult<FlagRow> {
    let configs = session.flag_environment_configs_for_update(flag.id).await?;
    let updated = session.update_flag(flag.id, fields).await?;
    for config in &configs {
        let next = FlagEnvironmentRow {
            version: config.version + 1,
            ..config.clone()
        };
        let candidate = updated.sdk_flag(&next);
        validation::flag(&candidate, &[], &[])
            .map_err(|error| in_environment(error, &config.environment_key))?;
        session
            .upsert_flag_environment_config(
                flag.id,
                config.environment_id,
                next.version,
                &candidate,
            )
            .await?;
        if !updated.is_archived {
            record_upsert(session, config.environment_id, &candidate).await?;
        }
    }
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "flag.update",
                resource: resource(project, None, &flag.key),
                project_key: Some(project.key.clone()),
                flag_key: Some(flag.key.clone()),
                before: Some(FlagView::project_fields(flag).to_json()),
                after: Some(FlagView::project_fields(&updated).to_json()),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(updated)
}

/// Archives (SDKs see it deleted) or restores a flag.
pub async fn set_archived(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    flag: &FlagRow,
    is_archived: bool,
    comment: String,
) -> ApiResult<()> {
    if flag.is_archived == is_archived {
        return Ok(());
    }
    let configs = session.flag_environment_configs_for_update(flag.id).await?;
    if is_archived {
        refuse_if_prerequisite(session, flag, &configs, "archived").await?;
    }
    session.set_flag_archived(flag.id, is_archived).await?;
    for config in &configs {
        let version = config.version + 1;
        let sdk_flag = flag.sdk_flag(&FlagEnvironmentRow {
            version,
            ..config.clone()
        });
        session
            .upsert_flag_environment_config(flag.id, config.environment_id, version, &sdk_flag)
            .await?;
        if is_archived {
            record_delete(session, config.environment_id, &flag.key, version).await?;
        } else {
            record_upsert(session, config.environment_id, &sdk_flag).await?;
        }
    }
    session
        .append_audit(
            caller,
            AuditRecord {
                action: if is_archived {
                    "flag.archive"
                } else {
                    "flag.restore"
                },
                resource: resource(project, None, &flag.key),
                project_key: Some(project.key.clone()),
                flag_key: Some(flag.key.clone()),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(())
}

/// Deletes a flag everywhere, leaving a tombstone version in each environment.
pub async fn delete(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    flag: &FlagRow,
    comment: String,
) -> ApiResult<()> {
    let configs = session.flag_environment_configs_for_update(flag.id).await?;
    refuse_if_prerequisite(session, flag, &configs, "deleted").await?;
    let before = FlagView::with_environments(flag, &configs).to_json();
    for config in &configs {
        let version = config.version + 1;
        session
            .put_tombstone(config.environment_id, ItemKind::Flag, &flag.key, version)
            .await?;
        record_delete(session, config.environment_id, &flag.key, version).await?;
    }
    session.delete_flag(flag.id).await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "flag.delete",
                resource: resource(project, None, &flag.key),
                project_key: Some(project.key.clone()),
                flag_key: Some(flag.key.clone()),
                before: Some(before),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(())
}

/// 409 when another live flag in one of the environments has this flag as prerequisite.
async fn refuse_if_prerequisite(
    session: &mut dyn ConfigRead,
    flag: &FlagRow,
    configs: &[FlagEnvironmentRow],
    outcome: &str,
) -> ApiResult<()> {
    for config in configs {
        let dependants: Vec<String> = session
            .sdk_flags(config.environment_id)
            .await?
            .into_iter()
            .filter(|other| {
                other
                    .prerequisites
                    .iter()
                    .any(|prerequisite| prerequisite.key == flag.key)
            })
            .map(|other| format!("`{}`", other.key))
            .collect();
        if !dependants.is_empty() {
            return Err(ApiError::conflict(format!(
                "flag `{}` cannot be {outcome}: it is a prerequisite of {} in environment `{}`",
                flag.key,
                dependants.join(", "),
                config.environment_key
            )));
        }
    }
    Ok(())
}

fn in_environment(mut error: ApiError, environment_key: &str) -> ApiError {
    for field in &mut error.errors {
        field.path = format!("environments.{environment_key}.{}", field.path);
    }
    error.message = format!("in environment `{environment_key}`: {}", error.message);
    error
}

/// The flag's SDK JSON.
pub fn sdk_json(flag: &Flag) -> Value {
    serde_json::to_value(flag).expect("a flag always serializes")
}

async fn record_upsert(
    session: &mut dyn ConfigWrite,
    environment_id: Uuid,
    flag: &Flag,
) -> Result<(), StoreError> {
    session
        .record_change(
            environment_id,
            ChangeKind::FlagUpsert,
            &flag.key,
            flag.version as i64,
            serde_json::to_vec(flag).expect("a flag always serializes"),
        )
        .await
}

async fn record_delete(
    session: &mut dyn ConfigWrite,
    environment_id: Uuid,
    key: &str,
    version: i64,
) -> Result<(), StoreError> {
    session
        .record_change(
            environment_id,
            ChangeKind::FlagDeleted,
            key,
            version,
            Vec::new(),
        )
        .await
}
