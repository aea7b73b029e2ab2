//! Applies due scheduled changes. Every replica runs it; claiming due changes locks them
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and the status change commits with the flag
//! change, so each one applies exactly once, and pending rows survive restarts.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::auth::{Actor, Caller, Role};
use crate::error::ApiError;
use crate::instructions::FlagInstruction;
use crate::mutations::targeting::apply_instructions;
use crate::store::rows::ScheduledChange;
use crate::store::{ConfigStore, ConfigWrite};

/// How many due changes one pass claims.
const BATCH: i64 = 50;

/// Runs passes every `interval` until `shutdown` fires.
pub async fn run(store: Arc<dyn ConfigStore>, interval: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match apply_due(store.as_ref()).await {
            Ok(0) => {}
            Ok(count) => {
                store.flush().await;
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
pub async fn apply_due(store: &dyn ConfigStore) -> anyhow::Result<usize> {
    let mut session = store.write().await?;
    let due = session.claim_due_scheduled_changes(BATCH).await?;
    for change in &due {
        session.savepoint().await?;
        match apply_one(session.as_mut(), change).await {
            Ok(()) => {
                session
                    .finish_scheduled_change(change.id, "applied", None)
                    .await?;
                session.release_savepoint().await?;
            }
            Err(error) => {
                session.rollback_to_savepoint().await?;
                let reason = describe(&error);
                tracing::warn!(change_id = %change.id, reason, "scheduled change failed");
                session
                    .finish_scheduled_change(change.id, "failed", Some(&reason))
                    .await?;
            }
        }
    }
    session.commit().await?;
    Ok(due.len())
}

async fn apply_one(
    session: &mut dyn ConfigWrite,
    change: &ScheduledChange,
) -> Result<(), ApiError> {
    let instructions: Vec<FlagInstruction> = serde_json::from_value(change.instructions.0.clone())
        .map_err(|error| ApiError::invalid_field("instructions", error.to_string()))?;
    let environment = session
        .find_environment_by_id(change.environment_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the environment was deleted"))?;
    let project = session
        .find_project_by_id(environment.project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the project was deleted"))?;
    let flag = session
        .find_flag_for_update(project.id, &change.flag_key)
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
        session,
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
