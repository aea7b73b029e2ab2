//! Segment changes: creation, replacement and deletion in one environment, with versions,
//! FlagSync changes and audit entries.

use vexil_eval::{Clause, Segment};

use super::validation;
use crate::audit::AuditRecord;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::kinds::{ChangeKind, ItemKind};
use crate::store::params::SegmentFields;
use crate::store::rows::{Environment, Project, SegmentRow};
use crate::store::{ConfigRead, ConfigWrite, StoreError};
use crate::views::SegmentView;

pub fn resource(project: &Project, environment: &Environment, key: &str) -> String {
    format!(
        "projects/{}/environments/{}/segments/{key}",
        project.key, environment.key
    )
}

/// Creates a segment, continuing after the tombstone of an earlier one with the same key.
pub async fn create(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    fields: &SegmentFields<'_>,
    mut segment: Segment,
    comment: String,
) -> ApiResult<SegmentRow> {
    let version = session
        .take_tombstone(environment.id, ItemKind::Segment, &segment.key)
        .await?
        .unwrap_or(0)
        + 1;
    segment.version = version as u64;
    segment.deleted = false;
    let others = others_if_referenced(session, environment, &segment).await?;
    validation::segment(&segment, &others)?;
    let row = session
        .insert_segment(environment.id, fields, version, &segment)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "environment `{}` already has a segment `{}`",
                environment.key, segment.key
            ))
        })?;
    record_upsert(session, environment, &row).await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "segment.create",
                resource: resource(project, environment, &row.key),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                segment_key: Some(row.key.clone()),
                after: Some(SegmentView::new(&row).to_json()),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(row)
}

/// Replaces a segment's content and fields as its next version.
#[allow(clippy::too_many_arguments)]
pub async fn save(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    action: &'static str,
    project: &Project,
    environment: &Environment,
    current: &SegmentRow,
    fields: &SegmentFields<'_>,
    mut segment: Segment,
    comment: String,
) -> ApiResult<SegmentRow> {
    let version = current.version + 1;
    segment.key = current.key.clone();
    segment.version = version as u64;
    segment.deleted = false;
    let others = others_if_referenced(session, environment, &segment).await?;
    validation::segment(&segment, &others)?;
    let row = session
        .update_segment(current.id, fields, version, &segment)
        .await?;
    record_upsert(session, environment, &row).await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action,
                resource: resource(project, environment, &row.key),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                segment_key: Some(row.key.clone()),
                before: Some(SegmentView::new(current).to_json()),
                after: Some(SegmentView::new(&row).to_json()),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(row)
}

/// Deletes a segment no flag or segment refers to, leaving a tombstone version.
pub async fn delete(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    current: &SegmentRow,
    comment: String,
) -> ApiResult<()> {
    let users = users_of(session, environment, &current.key).await?;
    if !users.is_empty() {
        return Err(ApiError::conflict(format!(
            "segment `{}` cannot be deleted: {} refer to it",
            current.key,
            users.join(", ")
        )));
    }
    let version = current.version + 1;
    session
        .put_tombstone(environment.id, ItemKind::Segment, &current.key, version)
        .await?;
    session.delete_segment(current.id).await?;
    session
        .record_change(
            environment.id,
            ChangeKind::SegmentDeleted,
            &current.key,
            version,
            Vec::new(),
        )
        .await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "segment.delete",
                resource: resource(project, environment, &current.key),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                segment_key: Some(current.key.clone()),
                before: Some(SegmentView::new(current).to_json()),
                comment,
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(())
}

/// The environment's other segments, when this one's rules refer to segments.
async fn others_if_referenced(
    session: &mut dyn ConfigRead,
    environment: &Environment,
    segment: &Segment,
) -> ApiResult<Vec<Segment>> {
    let refers = segment
        .rules
        .iter()
        .any(|rule| rule.clauses.iter().any(is_segment_match));
    if !refers {
        return Ok(Vec::new());
    }
    Ok(session
        .list_segments(environment.id)
        .await?
        .iter()
        .filter(|row| row.key != segment.key)
        .map(SegmentRow::sdk_segment)
        .collect())
}

/// Flags and segments whose clauses match on segment `key`, named for an error message.
async fn users_of(
    session: &mut dyn ConfigRead,
    environment: &Environment,
    key: &str,
) -> ApiResult<Vec<String>> {
    let names_key = |clause: &Clause| {
        is_segment_match(clause)
            && clause
                .values
                .iter()
                .any(|value| value.as_str() == Some(key))
    };
    let mut users: Vec<String> = session
        .sdk_flags(environment.id)
        .await?
        .iter()
        .filter(|flag| {
            flag.rules
                .iter()
                .any(|rule| rule.clauses.iter().any(names_key))
        })
        .map(|flag| format!("flag `{}`", flag.key))
        .collect();
    users.extend(
        session
            .list_segments(environment.id)
            .await?
            .iter()
            .filter(|row| row.key != key)
            .filter(|row| {
                row.data
                    .rules
                    .iter()
                    .any(|rule| rule.clauses.iter().any(names_key))
            })
            .map(|row| format!("segment `{}`", row.key)),
    );
    Ok(users)
}

fn is_segment_match(clause: &Clause) -> bool {
    clause.op == "segmentMatch"
}

async fn record_upsert(
    session: &mut dyn ConfigWrite,
    environment: &Environment,
    row: &SegmentRow,
) -> Result<(), StoreError> {
    let segment = row.sdk_segment();
    session
        .record_change(
            environment.id,
            ChangeKind::SegmentUpsert,
            &segment.key,
            row.version,
            serde_json::to_vec(&segment).expect("a segment always serializes"),
        )
        .await
}
