//! Applies due scheduled changes. Every replica runs it; `FOR UPDATE SKIP LOCKED` and
//! the status change committed with the flag change make each one apply exactly once,
//! and pending rows survive restarts.

use std::time::Duration;

use sqlx::{Acquire, PgPool};
use tokio_util::sync::CancellationToken;

use crate::auth::{Actor, Caller, Role};
use crate::error::ApiError;
use crate::instructions::FlagInstruction;
use crate::mutations::targeting::apply_instructions;
use crate::sequencer::Sequencer;
use crate::store::rows::ScheduledChange;
use crate::store::scheduled_changes;
use crate::store::{environments, flags, projects};

/// How many due changes one pass claims.
const BATCH: i64 = 50;

/// Runs passes every `interval` until `shutdown` fires.
pub async fn run(
    pool: PgPool,
    sequencer: Sequencer,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match apply_due(&pool).await {
            Ok(0) => {}
            Ok(count) => {
                sequencer.flush().await;
                tracing::info!(count, "applied scheduled changes");
            }
            Err(error) => tracing::warn!(
                error = format!("{error:#}"),
                "scheduled changes pass failed"
            ),
        }
    }
}

/// One pass: claims due changes and applies each in a savepoint; a change that no longer
/// applies is marked failed with the reason. Returns how many were processed.
pub async fn apply_due(pool: &PgPool) -> anyhow::Result<usize> {
    let mut transaction = pool.begin().await?;
    let due = scheduled_changes::claim_due(&mut transaction, BATCH).await?;
    for change in &due {
        let mut savepoint = transaction.begin().await?;
        match apply_one(&mut savepoint, change).await {
            Ok(()) => {
                scheduled_changes::finish(&mut savepoint, change.id, "applied", None).await?;
                savepoint.commit().await?;
            }
            Err(error) => {
                savepoint.rollback().await?;
                let reason = describe(&error);
                tracing::warn!(change_id = %change.id, reason, "scheduled change failed");
                scheduled_changes::finish(&mut transaction, change.id, "failed", Some(&reason))
                    .await?;
            }
        }
    }
    transaction.commit().await?;
    Ok(due.len())
}

async fn apply_one(
    connection: &mut sqlx::PgConnection,
    change: &ScheduledChange,
) -> Result<(), ApiError> {
    let instructions: Vec<FlagInstruction> = serde_json::from_value(change.instructions.0.clone())
        .map_err(|error| ApiError::invalid_field("instructions", error.to_string()))?;
    let environment = environments::find_by_id(connection, change.environment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the environment was deleted"))?;
    let project = projects::find_by_id(connection, environment.project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the project was deleted"))?;
    let flag = flags::find_for_update(connection, project.id, &change.flag_key)
        .await?
        .ok_or_else(|| ApiError::not_found("the flag was deleted"))?;
    let caller = Caller {
        actor: Actor {
            token_id: change.created_by_token_id.unwrap_or_default(),
            name: format!("scheduler (for {})", change.created_by_name),
            role: Role::Writer,
            project_keys: None,
            environment_keys: None,
            can_bypass_approvals: false,
        },
        client_ip: None,
        request_id: Some(format!("scheduled-change-{}", change.id)),
    };
    apply_instructions(
        connection,
        &caller,
        &project,
        &environment,
        &flag,
        &instructions,
        "flag.scheduled_change",
        change.comment.clone(),
    )
    .await
    .map(|_| ())
}

fn describe(error: &ApiError) -> String {
    let mut reason = error.message.clone();
    for field in &error.errors {
        reason.push_str(&format!("; {}: {}", field.path, field.reason));
    }
    reason
}
