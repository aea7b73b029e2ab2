//! Finds the objects a path names, answering 404 with the missing object's name.

use sqlx::PgConnection;

use crate::error::{ApiError, ApiResult};
use crate::store::environments;
use crate::store::flags;
use crate::store::projects;
use crate::store::rows::{Environment, FlagEnvironmentRow, FlagRow, Project, SegmentRow};
use crate::store::segments;

pub async fn project(connection: &mut PgConnection, key: &str) -> ApiResult<Project> {
    projects::find(connection, key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project `{key}` not found")))
}

pub async fn environment(
    connection: &mut PgConnection,
    project: &Project,
    key: &str,
) -> ApiResult<Environment> {
    environments::find(connection, project.id, key)
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
    connection: &mut PgConnection,
    project_key: &str,
    environment_key: &str,
) -> ApiResult<(Project, Environment)> {
    let project = project(connection, project_key).await?;
    let environment = environment(connection, &project, environment_key).await?;
    Ok((project, environment))
}

pub async fn flag(
    connection: &mut PgConnection,
    project: &Project,
    key: &str,
) -> ApiResult<FlagRow> {
    flags::find(connection, project.id, key)
        .await?
        .ok_or_else(|| flag_not_found(project, key))
}

/// As `flag`, locking the flag until the transaction ends.
pub async fn flag_for_update(
    connection: &mut PgConnection,
    project: &Project,
    key: &str,
) -> ApiResult<FlagRow> {
    flags::find_for_update(connection, project.id, key)
        .await?
        .ok_or_else(|| flag_not_found(project, key))
}

/// The flag's targeting in the environment.
pub async fn targeting(
    connection: &mut PgConnection,
    flag: &FlagRow,
    environment: &Environment,
) -> ApiResult<FlagEnvironmentRow> {
    flags::environment_config(connection, flag.id, environment.id)
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
    connection: &mut PgConnection,
    environment: &Environment,
    key: &str,
) -> ApiResult<SegmentRow> {
    segments::find_for_update(connection, environment.id, key)
        .await?
        .ok_or_else(|| segment_not_found(environment, key))
}

pub async fn segment(
    connection: &mut PgConnection,
    environment: &Environment,
    key: &str,
) -> ApiResult<SegmentRow> {
    segments::find(connection, environment.id, key)
        .await?
        .ok_or_else(|| segment_not_found(environment, key))
}

fn segment_not_found(environment: &Environment, key: &str) -> ApiError {
    ApiError::not_found(format!(
        "segment `{key}` not found in environment `{}`",
        environment.key
    ))
}
