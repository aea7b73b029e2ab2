//! Finds the objects a path names, answering 404 with the missing object's name.

use crate::error::{ApiError, ApiResult};
use crate::store::rows::{Environment, FlagEnvironmentRow, FlagRow, Project, SegmentRow};
use crate::store::{ConfigRead, ConfigWrite};

pub async fn project(session: &mut dyn ConfigRead, key: &str) -> ApiResult<Project> {
    session
        .find_project(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project `{key}` not found")))
}

pub async fn environment(
    session: &mut dyn ConfigRead,
    project: &Project,
    key: &str,
) -> ApiResult<Environment> {
    session
        .find_environment(project.id, key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "environment `{key}` not found in project `{}`",
                project.key
            ))
        })
}

/// The project and one of its environments, as a path names them.
pub async fn project_environment(
    session: &mut dyn ConfigRead,
    project_key: &str,
    environment_key: &str,
) -> ApiResult<(Project, Environment)> {
    let project = project(session, project_key).await?;
    let environment = environment(session, &project, environment_key).await?;
    Ok((project, environment))
}

pub async fn flag(
    session: &mut dyn ConfigRead,
    project: &Project,
    key: &str,
) -> ApiResult<FlagRow> {
    session
        .find_flag(project.id, key)
        .await?
        .ok_or_else(|| flag_not_found(project, key))
}

/// As `flag`, locking the flag until the transaction ends.
pub async fn flag_for_update(
    session: &mut dyn ConfigWrite,
    project: &Project,
    key: &str,
) -> ApiResult<FlagRow> {
    session
        .find_flag_for_update(project.id, key)
        .await?
        .ok_or_else(|| flag_not_found(project, key))
}

/// The flag's targeting in the environment.
pub async fn targeting(
    session: &mut dyn ConfigRead,
    flag: &FlagRow,
    environment: &Environment,
) -> ApiResult<FlagEnvironmentRow> {
    session
        .flag_environment_config(flag.id, environment.id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "flag `{}` has no targeting in environment `{}`",
                flag.key, environment.key
            ))
        })
}

fn flag_not_found(project: &Project, key: &str) -> ApiError {
    ApiError::not_found(format!(
        "flag `{key}` not found in project `{}`",
        project.key
    ))
}

pub async fn segment_for_update(
    session: &mut dyn ConfigWrite,
    environment: &Environment,
    key: &str,
) -> ApiResult<SegmentRow> {
    session
        .find_segment_for_update(environment.id, key)
        .await?
        .ok_or_else(|| segment_not_found(environment, key))
}

pub async fn segment(
    session: &mut dyn ConfigRead,
    environment: &Environment,
    key: &str,
) -> ApiResult<SegmentRow> {
    session
        .find_segment(environment.id, key)
        .await?
        .ok_or_else(|| segment_not_found(environment, key))
}

fn segment_not_found(environment: &Environment, key: &str) -> ApiError {
    ApiError::not_found(format!(
        "segment `{key}` not found in environment `{}`",
        environment.key
    ))
}
