//! Scheduled changes: only due, pending ones are claimed; finishing and cancelling only
//! act on pending ones.

use std::sync::Arc;

use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use vexil_config_api::store::params::NewChange;
use vexil_config_api::store::{now, ConfigStore};

use crate::support::{project, FlagSpec, ACTOR_TOKEN_ID};

pub async fn scheduled_changes_claim_finish_and_cancel(store: Arc<dyn ConfigStore>) {
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let production = &environments[0];
    let instructions = json!([{ "kind": "turnFlagOff" }]);
    let start = now();
    let mut write = store.write().await.unwrap();
    let flag = write
        .insert_flag(project.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    let change = |execute_at: OffsetDateTime, comment: &'static str| NewChange {
        flag_id: flag.id,
        environment_id: production.id,
        execute_at,
        instructions: &instructions,
        comment,
        created_by_token_id: ACTOR_TOKEN_ID,
        created_by_name: "admin",
    };
    let later = write
        .insert_scheduled_change(&change(start + Duration::hours(1), "later"))
        .await
        .unwrap();
    let second = write
        .insert_scheduled_change(&change(start - Duration::minutes(1), "second"))
        .await
        .unwrap();
    let first = write
        .insert_scheduled_change(&change(start - Duration::minutes(2), "first"))
        .await
        .unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let listed = read.list_scheduled_changes(flag.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id).collect::<Vec<_>>(),
        [first, second, later],
        "in execution order"
    );
    let listed_first = &listed[0];
    assert_eq!(
        (
            listed_first.project_id,
            listed_first.flag_key.as_str(),
            listed_first.environment_key.as_str(),
            listed_first.status.as_str()
        ),
        (project.id, "checkout", "production", "pending")
    );
    assert_eq!(listed_first.execute_at, start - Duration::minutes(2));
    assert_eq!(listed_first.instructions.0, instructions);
    assert_eq!(listed_first.created_by_token_id, Some(ACTOR_TOKEN_ID));
    drop(read);

    let mut write = store.write().await.unwrap();
    let due = write.claim_due_scheduled_changes(10).await.unwrap();
    assert_eq!(
        due.iter().map(|c| c.id).collect::<Vec<_>>(),
        [first, second]
    );
    let due = write.claim_due_scheduled_changes(1).await.unwrap();
    assert_eq!(due.iter().map(|c| c.id).collect::<Vec<_>>(), [first]);
    assert!(write
        .finish_scheduled_change(first, "applied", None)
        .await
        .unwrap());
    assert!(
        !write
            .finish_scheduled_change(first, "failed", Some("again"))
            .await
            .unwrap(),
        "finished once"
    );
    let due = write.claim_due_scheduled_changes(10).await.unwrap();
    assert_eq!(due.iter().map(|c| c.id).collect::<Vec<_>>(), [second]);
    assert!(write
        .finish_scheduled_change(second, "failed", Some("the flag changed"))
        .await
        .unwrap());
    assert!(write
        .claim_due_scheduled_changes(10)
        .await
        .unwrap()
        .is_empty());

    assert_eq!(
        write
            .cancel_scheduled_change(Uuid::from_u128(5), later)
            .await
            .unwrap(),
        None,
        "another flag's id finds nothing"
    );
    assert_eq!(
        write
            .cancel_scheduled_change(flag.id, later)
            .await
            .unwrap()
            .as_deref(),
        Some("pending")
    );
    assert_eq!(
        write
            .cancel_scheduled_change(flag.id, later)
            .await
            .unwrap()
            .as_deref(),
        Some("cancelled")
    );
    assert_eq!(
        write
            .cancel_scheduled_change(flag.id, first)
            .await
            .unwrap()
            .as_deref(),
        Some("applied"),
        "an applied change stays applied"
    );
    assert_eq!(
        write
            .cancel_scheduled_change(flag.id, Uuid::from_u128(6))
            .await
            .unwrap(),
        None
    );
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let listed = read.list_scheduled_changes(flag.id).await.unwrap();
    let outcome: Vec<(&str, Option<&str>, bool)> = listed
        .iter()
        .map(|c| {
            (
                c.status.as_str(),
                c.failure_reason.as_deref(),
                c.applied_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        outcome,
        [
            ("applied", None, true),
            ("failed", Some("the flag changed"), true),
            ("cancelled", None, false)
        ]
    );
}
